/**
 * @module
 * The v3 protocol as WeChat applies it to a merchant's request (reference §3, §7): required headers,
 * then the `WECHATPAY2-SHA256-RSA2048` Authorization (merchant, certificate serial, a timestamp
 * within 5 minutes, the signature over the five-line string with the path and query as received —
 * below the sandbox's mount — and the exact body bytes), then the body as JSON. Failures are WeChat's `{code, message, detail?}`.
 */
import { fromBase64 } from '../../crypto'
import { rsaVerify } from '../../wechat/v3/crypto'
import { type Authorization, MAX_CLOCK_SKEW_SECONDS, parseAuthorization, SCHEME } from '../../wechat/v3/sign'
import { requestBytes } from './crypto'
import type { Settings } from './settings'

/** WeChat's error body (§7.1); `detail` names the field when one is at fault. */
export type WechatError = {
  status: number
  code: string
  message: string
  detail?: { field?: string; value?: unknown; issue?: string; location?: string }
}

/** A request that passed the protocol: its body (parsed JSON; undefined for GET) and query. */
export type Authentic = { json: unknown; query: URLSearchParams }

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Shorthand for an error answer. */
export function refuse(status: number, code: string, text: string, detail?: WechatError['detail']): WechatError {
  return { status, code, message: text, ...(detail && { detail }) }
}

/**
 * Authenticates a request the way WeChat does, in its order.
 * @param nowSeconds the sandbox's clock, Unix seconds.
 */
export async function authenticate(
  request: Request,
  settings: Settings,
  nowSeconds: number,
): Promise<Authentic | WechatError> {
  const headers = request.headers
  if (!headers.get('accept') || !headers.get('user-agent')) {
    return refuse(400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent')
  }
  const bytes = new Uint8Array(await request.arrayBuffer())
  const hasBody = request.method !== 'GET'
  if (hasBody && !/^application\/json\s*(;|$)/i.test(headers.get('content-type') ?? '')) {
    return refuse(400, 'INVALID_REQUEST', 'Http头Content-Type值必须为application/json')
  }
  const auth = readAuthorization(headers.get('authorization'))
  if ('status' in auth) return auth
  if (auth.mchid !== settings.mchId) {
    return refuse(401, 'SIGN_ERROR', '商户号与签名中的商户号不一致或商户不存在', signField('mchid'))
  }
  if (auth.serial.toUpperCase() !== settings.merchantSerial) {
    return refuse(401, 'SIGN_ERROR', '商户证书序列号有误,请核实后再试', signField('serial_no'))
  }
  // "微信支付会拒绝处理很久之前发起的请求" (§3.3): the sandbox allows the SDKs' 5 minutes either way.
  if (Math.abs(nowSeconds - Number(auth.timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
    return refuse(401, 'SIGN_ERROR', '请求的时间戳与当前时间相差超过5分钟', signField('timestamp'))
  }
  const url = new URL(request.url)
  const signed = requestBytes([request.method, apiTarget(url), auth.timestamp, auth.nonce], bytes)
  if (!(await rsaVerify(settings.merchantKey, signed, auth.signature))) {
    return refuse(401, 'SIGN_ERROR', '错误的签名,验签失败', signField('signature'))
  }
  let json: unknown
  if (hasBody) {
    try {
      json = JSON.parse(utf8.decode(bytes))
    } catch {
      return refuse(400, 'PARAM_ERROR', '请求体不是合法的JSON', { location: 'body', issue: 'body is not UTF-8 JSON' })
    }
  } else if (bytes.length > 0) {
    return refuse(400, 'INVALID_REQUEST', 'GET请求不能携带请求体')
  }
  return { json, query: url.searchParams }
}

/** The Authorization header's five pairs (§3.3), with a 10-digit timestamp and a base64 signature. */
function readAuthorization(header: string | null): Authorization | WechatError {
  const auth = header === null ? undefined : parseAuthorization(header)
  if (auth && /^[0-9]{10}$/.test(auth.timestamp) && auth.nonce.length <= 64 && fromBase64(auth.signature)) return auth
  return refuse(401, 'SIGN_ERROR', 'Http头Authorization值格式错误,请参考《微信支付APIv3签名规则》', {
    location: 'authorization',
    issue: `want ${SCHEME} mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`,
  })
}

/**
 * The path and query WeChat sees. The sandbox is WeChat's root at WXPAY_API_BASE (…/sandbox), so a
 * request is signed with the path after it, `/v3/…`, exactly as the service signs it.
 */
export function apiTarget(url: URL): string {
  return `${url.pathname.slice(url.pathname.indexOf('/v3/'))}${url.search}`
}

/**
 * The serial the reply is signed under: the one the request names in Wechatpay-Serial (the public
 * key ID or the platform certificate's serial: "商户在请求头部 Wechatpay-Serial 填入公钥ID 来指定应答时
 * 使用的验签方案", §1.3), else the merchant's mode. A serial the sandbox never issued is refused.
 */
export function replySerial(header: string | undefined, settings: Settings): string | WechatError {
  const { publicKeyId, certificate, mode } = settings
  if (header === undefined || header === '') return mode === 'publicKey' ? publicKeyId : certificate.serial
  if (header === publicKeyId || header.toUpperCase() === certificate.serial) return header.toUpperCase()
  return refuse(400, 'PARAM_ERROR', 'Wechatpay-Serial 不是有效的微信支付公钥ID或平台证书序列号', {
    location: 'header',
    field: 'Wechatpay-Serial',
    issue: 'unknown serial',
  })
}

function signField(field: string): WechatError['detail'] {
  return { location: 'authorization', field }
}
