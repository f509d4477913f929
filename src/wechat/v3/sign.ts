/**
 * @module
 * APIv3 signatures (v3 reference §3, §4): the merchant signs a five-line string and sends it in
 * `Authorization`; WeChat signs every reply and notification over `timestamp\nnonce\nbody\n`, names
 * the key in `Wechatpay-Serial`, and now and then sends a deliberately wrong probe signature.
 */
import { rsaSign, rsaVerify } from './crypto'

const encoder = new TextEncoder()

/** The scheme of `Authorization` and `Wechatpay-Signature-Type`. */
export const SCHEME = 'WECHATPAY2-SHA256-RSA2048'

/** Replies and notifications older or newer than this are refused (SDKs' 300 s, v3 reference §4.3). */
export const MAX_CLOCK_SKEW_SECONDS = 300

/**
 * The string a request signature covers: method, path and query exactly as sent, timestamp, nonce, body ("" for GET).
 * @example requestMessage('GET', '/v3/refund/domestic/refunds/R1', '1554208460', 'N', '') // 'GET\n/v3/…/R1\n1554208460\nN\n\n'
 */
export function requestMessage(method: string, target: string, timestamp: string, nonce: string, body: string): string {
  return `${method}\n${target}\n${timestamp}\n${nonce}\n${body}\n`
}

/** The bytes a reply or notification signature covers: the raw body, byte for byte (§4.1). */
export function replyMessage(timestamp: string, nonce: string, body: Uint8Array): Uint8Array {
  const head = encoder.encode(`${timestamp}\n${nonce}\n`)
  const message = new Uint8Array(head.byteLength + body.byteLength + 1)
  message.set(head)
  message.set(body, head.byteLength)
  message[message.byteLength - 1] = 0x0a
  return message
}

export type Authorization = { mchid: string; serial: string; timestamp: string; nonce: string; signature: string }

/** The `Authorization` header value (§3.3). */
export function authorization(a: Authorization): string {
  return `${SCHEME} mchid="${a.mchid}",nonce_str="${a.nonce}",signature="${a.signature}",timestamp="${a.timestamp}",serial_no="${a.serial}"`
}

/** Reads an `Authorization` header back (for stand-ins that check the merchant's signature); undefined if malformed. */
export function parseAuthorization(header: string): Authorization | undefined {
  if (!header.startsWith(`${SCHEME} `)) return undefined
  const pairs = new Map<string, string>()
  for (const part of header.slice(SCHEME.length + 1).split(',')) {
    const m = /^([a-z_]+)="([^"]*)"$/.exec(part.trim())
    if (!m) return undefined
    pairs.set(m[1] as string, m[2] as string)
  }
  const [mchid, serial, timestamp, nonce, signature] = [
    'mchid',
    'serial_no',
    'timestamp',
    'nonce_str',
    'signature',
  ].map((name) => pairs.get(name))
  if (!mchid || !serial || !timestamp || !nonce || !signature) return undefined
  return { mchid, serial, timestamp, nonce, signature }
}

/** Signs a request and returns its `Authorization` header. */
export async function signRequest(
  key: CryptoKey,
  request: {
    mchid: string
    serial: string
    method: string
    target: string
    timestamp: string
    nonce: string
    body: string
  },
): Promise<string> {
  const { method, target, timestamp, nonce, body } = request
  const signature = await rsaSign(key, requestMessage(method, target, timestamp, nonce, body))
  return authorization({ ...request, signature })
}

/** Why a signed message was refused; each is safe to log. */
export type Refusal = 'unsigned' | 'unknown_serial' | 'stale' | 'probe' | 'bad_signature'

/** The keys that may sign replies and notifications, by `Wechatpay-Serial`: a public key ID or a platform certificate serial. */
export type KeyRing = { keyFor(serial: string): Promise<CryptoKey | undefined> }

/**
 * Verifies a reply or notification before any of it is read (§4.3): headers present, a known
 * serial (never "try every key"), a timestamp within 5 minutes of `now`, and the signature over the raw body.
 * A `WECHATPAY/SIGNTEST/` probe is refused like any bad signature.
 * @example const verdict = await verifySigned(response.headers, bytes, { keys, now: Date.now() })
 */
export async function verifySigned(
  headers: Headers,
  body: Uint8Array,
  options: { keys: KeyRing; now: number },
): Promise<{ ok: true; serial: string } | { ok: false; reason: Refusal }> {
  const timestamp = headers.get('wechatpay-timestamp')
  const nonce = headers.get('wechatpay-nonce')
  const serial = headers.get('wechatpay-serial')
  const signature = headers.get('wechatpay-signature')
  if (!timestamp || !nonce || !serial || !signature) return { ok: false, reason: 'unsigned' }
  if (!/^[0-9]{1,12}$/.test(timestamp) || Math.abs(options.now / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS)
    return { ok: false, reason: 'stale' }
  if (signature.startsWith('WECHATPAY/SIGNTEST/')) return { ok: false, reason: 'probe' }
  const key = await options.keys.keyFor(serial)
  if (!key) return { ok: false, reason: 'unknown_serial' }
  const valid = await rsaVerify(key, replyMessage(timestamp, nonce, body), signature)
  return valid ? { ok: true, serial } : { ok: false, reason: 'bad_signature' }
}
