/**
 * @module
 * The v2 protocol layer as WeChat applies it (协议规则, reference §1–§2, §11): POST only, a flat
 * `<xml>` body, a signature checked with the request's `sign_type` (absent = MD5) before any
 * field is believed. Protocol failures answer `return_code FAIL` + `return_msg` and nothing else
 * (no sign); everything past the protocol answers `return_code SUCCESS` with a signed reply.
 */
import type { Config } from '../config'
import { SIGN_TYPES, type SignType, sign, verify } from '../wechat/sign'
import { decode, encode, type Fields } from '../wechat/xml'
import { nonce } from './ids'

/** A request whose signature checked out. */
export type Verified = { fields: Fields; signType: SignType }

/** A business outcome: extra reply fields, or result_code FAIL with err_code and err_code_des. */
export type Result = { ok: true; fields: Record<string, string> } | { ok: false; errCode: string; errCodeDes: string }

/** Shorthand for a result_code FAIL outcome. */
export function refuse(errCode: string, errCodeDes: string): Result {
  return { ok: false, errCode, errCodeDes }
}

const HEADERS = { 'Content-Type': 'text/xml; charset=utf-8' }
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * Reads and authenticates a request the way WeChat does, in its order: method, body, encoding,
 * XML, sign_type, signature. Returns the `return_msg` of the protocol failure, if any.
 */
export async function readRequest(request: Request, key: string): Promise<Verified | { returnMsg: string }> {
  if (request.method !== 'POST') return { returnMsg: '请使用post方法' }
  const bytes = await request.arrayBuffer()
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return { returnMsg: '编码格式错误' }
  }
  if (text.trim() === '') return { returnMsg: 'post数据为空' }
  let fields: Fields
  try {
    fields = decode(text)
  } catch {
    return { returnMsg: 'XML格式错误' }
  }
  // An empty sign_type is not signed (empty values are skipped), so it counts as absent: MD5.
  const declared = fields.sign_type || 'MD5'
  if (!(SIGN_TYPES as readonly string[]).includes(declared)) return { returnMsg: 'sign_type参数错误' }
  const signType = declared as SignType
  // A missing sign is refused the same way as a wrong one: nothing unsigned is ever answered.
  if (!fields.sign || !(await verify(fields, key, signType))) return { returnMsg: '签名错误' }
  return { fields, signType }
}

/** A protocol failure: `return_code FAIL` and its message only, unsigned, as WeChat sends it. */
export function failReply(returnMsg: string): Response {
  return new Response(encode({ return_code: 'FAIL', return_msg: returnMsg }), { headers: HEADERS })
}

/**
 * A signed `return_code SUCCESS` reply. It carries appid, mch_id, nonce_str and result_code
 * (+ err_code, err_code_des on FAIL), then the outcome's fields, signed with the request's type.
 * appid and mch_id echo the request's, falling back to the configured ones when absent.
 */
export async function reply(options: { request: Verified; config: Config; result: Result }): Promise<Response> {
  const { request, config, result } = options
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: request.fields.appid || config.appid,
    mch_id: request.fields.mch_id || config.mchId,
    nonce_str: nonce(),
  }
  if (result.ok) Object.assign(fields, { result_code: 'SUCCESS' }, result.fields)
  else Object.assign(fields, { result_code: 'FAIL', err_code: result.errCode, err_code_des: result.errCodeDes })
  fields.sign = await sign(fields, config.apiKey, request.signType)
  return new Response(encode(fields), { headers: HEADERS })
}
