/**
 * @module
 * Relays a verified event (a payment, a refund) to the shop's notify_url as JSON, signed the way
 * shops can check in a few lines:
 * `Wxpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` — one `v1=`
 * per configured NOTIFY_SECRET, so a shop can move to a new secret without missing an event.
 * Signing, verifying and test payloads live here together (like stripe-node's Webhooks), so the
 * stand-in shop, the tests and the README's example all use the one verifier.
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

/** How far a relay's timestamp may be from the receiver's clock. */
export const TOLERANCE_SECONDS = 300

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

/**
 * How a shop checks a relay (the README shows this function verbatim): true when some `v1` in the
 * header is the HMAC of `<t>.<raw body>` under one of `secrets` and `t` is within the tolerance.
 * Any matching `v1` counts, so both sides can rotate the secret without missing an event.
 * WebCrypto only: it runs in Node 18+, Deno, Bun and Workers.
 * @example if (!(await verifyRelay(await request.text(), request.headers.get('wxpay-signature'), [SECRET]))) return new Response(null, { status: 400 })
 */
export async function verifyRelay(
  rawBody: string,
  header: string | null | undefined,
  secrets: readonly string[],
  options: { toleranceSeconds?: number; now?: number } = {},
): Promise<boolean> {
  const { toleranceSeconds = 300, now = Date.now() } = options
  let t = ''
  const signatures: Uint8Array[] = []
  for (const part of (header ?? '').split(',')) {
    const [name, value = ''] = part.trim().split('=')
    if (name === 't') t = value
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      signatures.push(new Uint8Array((value.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))))
    }
  }
  if (!/^[0-9]{1,12}$/.test(t) || signatures.length === 0 || signatures.length > 4) return false
  if (Math.abs(now / 1000 - Number(t)) > toleranceSeconds) return false
  const enc = new TextEncoder()
  const message = enc.encode(`${t}.${rawBody}`)
  let valid = false
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'verify',
    ])
    // crypto.subtle.verify compares in constant time; every pair is tried, with no early exit.
    for (const signature of signatures) if (await crypto.subtle.verify('HMAC', key, signature, message)) valid = true
  }
  return valid
}

/**
 * A signed relay for tests and the sandbox: the body and the `Wxpay-Signature` header the service
 * would send for `event` at `now` (ms), one `v1=` per secret.
 */
export async function signedRelay(
  event: RelayEvent,
  options: { secrets: readonly string[]; now?: number },
): Promise<{ body: string; header: string }> {
  const body = JSON.stringify(event)
  return { body, header: await signatureHeader(options.secrets, body, Math.floor((options.now ?? Date.now()) / 1000)) }
}
