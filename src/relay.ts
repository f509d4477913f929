/**
 * @module
 * Relays a verified payment to the shop's notify_url as JSON, signed the way shops can check in a
 * few lines: `Wxpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(NOTIFY_SECRET, "<t>.<raw body>")>`.
 */
import { hmacSha256Hex } from './wechat/sign'

export const SIGNATURE_HEADER = 'Wxpay-Signature'

export type RelayOptions = {
  secret: string
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

export type RelayResult = { delivered: true; status: number } | { delivered: false; reason: string }

/** The header value for `body` at unix time `t`. */
export async function signatureHeader(secret: string, body: string, t: number): Promise<string> {
  return `t=${t},v1=${await hmacSha256Hex(secret, `${t}.${body}`)}`
}

/**
 * POSTs `{"data": payment}` to `url`. Delivered means the shop answered 2xx within the timeout;
 * anything else is reported, never thrown, so the caller can tell WeChat to retry.
 */
export async function relay(url: string, payment: object, options: RelayOptions): Promise<RelayResult> {
  const { secret, timeoutMs, fetch: transport = fetch, now = Date.now } = options
  const body = JSON.stringify({ data: payment })
  const t = Math.floor(now() / 1000)
  try {
    const response = await transport(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: await signatureHeader(secret, body, t) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
    if (response.ok) return { delivered: true, status: response.status }
    return { delivered: false, reason: `the shop answered HTTP ${response.status}` }
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
    return { delivered: false, reason: timedOut ? `no answer from the shop within ${timeoutMs} ms` : 'network error' }
  }
}
