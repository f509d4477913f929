/** Stand-ins for WeChat's side: signed v2 XML exactly as WeChat sends it. */
import { env } from 'cloudflare:workers'
import { type SignType, sign } from '../../src/wechat/sign'
import { decode, encode } from '../../src/wechat/xml'

export const KEY = env.WXPAY_API_KEY as string
/** The default appid: the first of WXPAY_APPID (the tests run with one appid and with two). */
export const APPID = (env.WXPAY_APPID as string).split(',')[0] as string
export const MCH_ID = env.WXPAY_MCH_ID as string

/** Signs `fields` (with `key`, default the merchant's) and encodes them as WeChat does. */
export async function signedXml(
  fields: Record<string, string>,
  type: SignType = 'HMAC-SHA256',
  key = KEY,
): Promise<string> {
  return encode({ ...fields, sign: await sign(fields, key, type) })
}

/** A reply to `request` with return_code and result_code SUCCESS plus `fields`, signed. */
export async function successReply(
  fields: Record<string, string>,
  type: SignType = 'HMAC-SHA256',
  key = KEY,
): Promise<Response> {
  const body = await signedXml(
    {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: APPID,
      mch_id: MCH_ID,
      nonce_str: 'n0nce',
      result_code: 'SUCCESS',
      ...fields,
    },
    type,
    key,
  )
  return new Response(body, { headers: { 'content-type': 'text/xml' } })
}

/** A signed business failure (result_code FAIL) with WeChat's err_code. */
export function businessError(errCode: string, des: string): Promise<Response> {
  return successReply({ result_code: 'FAIL', err_code: errCode, err_code_des: des })
}

/** Reads a request the service sent to WeChat. */
export async function readRequest(request: Request): Promise<Record<string, string>> {
  return { ...decode(await request.text()) }
}
