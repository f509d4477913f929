/**
 * @module
 * Relays a verified event (a payment, a refund) to the shop's notify_url as JSON, signed the way
 * shops can check in a few lines:
 * `Wxpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` — one `v1=`
 * per configured NOTIFY_SECRET, so a shop can move to a new secret without missing an event.
 */
import { hmacSha256Hex } from './wechat/sign'

export const SIGNATURE_HEADER = 'Wxpay-Signature'

/** What the shop receives: `{"type": "payment" | "refund", "data": {…}}`. */
export type RelayEvent = { type: 'payment' | 'refund'; data: object }

export type RelayOptions = {
  /** Each relay carries one signature per secret (at most two, while rotating). */
  secrets: readonly string[]
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

export type RelayResult = { delivered: true; status: number } | { delivered: false; reason: string }

/** The header value for `body` at unix time `t`. */
export async function signatureHeader(secrets: readonly string[], body: string, t: number): Promise<string> {
  const signatures = await Promise.all(secrets.map((secret) => hmacSha256Hex(secret, `${t}.${body}`)))
  return [`t=${t}`, ...signatures.map((v1) => `v1=${v1}`)].join(',')
}

/**
 * POSTs the event to `url`. Delivered means the shop answered 2xx within the timeout; a redirect
 * is not followed (it would turn the POST into a body-less GET) and counts as not delivered.
 * Nothing is thrown: every outcome is reported, so the caller can retry.
 */
export async function relay(url: string, event: RelayEvent, options: RelayOptions): Promise<RelayResult> {
  const { secrets, timeoutMs, fetch: transport = fetch, now = Date.now } = options
  const body = JSON.stringify(event)
  const t = Math.floor(now() / 1000)
  try {
    const response = await transport(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: await signatureHeader(secrets, body, t) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status }
    if (response.status >= 300 && response.status < 400) {
      return { delivered: false, reason: `the shop answered HTTP ${response.status} (redirects are not followed)` }
    }
    return { delivered: false, reason: `the shop answered HTTP ${response.status}` }
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
    return { delivered: false, reason: timedOut ? `no answer from the shop within ${timeoutMs} ms` : 'network error' }
  }
}
