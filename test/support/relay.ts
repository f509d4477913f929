/**
 * How a shop's backend checks a relayed notification — the README's example, kept here verbatim
 * so that the tests prove it works. Uses only WebCrypto, so it runs in Node 18+, Deno, Bun, Workers.
 */
export async function verifyRelay(
  rawBody: string,
  header: string | null,
  secret: string,
  toleranceSeconds = 300,
): Promise<boolean> {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '')
  if (!match) return false
  const [, t, v1] = match as unknown as [string, string, string]
  if (Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return false
  const enc = new TextEncoder()
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ])
  const signature = new Uint8Array((v1.match(/../g) ?? []).map((h) => Number.parseInt(h, 16)))
  // crypto.subtle.verify compares in constant time.
  return crypto.subtle.verify('HMAC', key, signature, enc.encode(`${t}.${rawBody}`))
}
