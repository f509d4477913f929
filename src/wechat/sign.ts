/**
 * @module
 * WeChat Pay v2 signatures (安全规范): sort the non-empty fields by name, join as `k=v&…`,
 * append `&key=<APIv2 key>`, then MD5 or HMAC-SHA256 (keyed with the same APIv2 key), upper-case hex.
 * MD5 comes from workerd's WebCrypto; Node's WebCrypto has no MD5, so this runs in workerd only.
 */

export const SIGN_TYPES = ['MD5', 'HMAC-SHA256'] as const
export type SignType = (typeof SIGN_TYPES)[number]

const encoder = new TextEncoder()

/**
 * The string that is hashed: every field but `sign` with a non-empty value, in byte order of
 * the names, values raw (no trimming, no URL-encoding), then `&key=`.
 * @example signString({ b: '2', a: '1', c: '' }, 'K') // 'a=1&b=2&key=K'
 */
export function signString(fields: Readonly<Record<string, string | undefined>>, key: string): string {
  const names = Object.keys(fields)
    .filter((name) => name !== 'sign' && fields[name] !== undefined && fields[name] !== '')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  let out = ''
  for (const name of names) out += `${name}=${fields[name]}&`
  return `${out}key=${key}`
}

/** Signs fields with the APIv2 key; returns the upper-case hex signature. */
export async function sign(
  fields: Readonly<Record<string, string | undefined>>,
  key: string,
  type: SignType,
): Promise<string> {
  const message = encoder.encode(signString(fields, key))
  const digest =
    type === 'MD5'
      ? await crypto.subtle.digest('MD5', message)
      : await crypto.subtle.sign('HMAC', await hmacKey(key), message)
  return toHex(digest)
}

/**
 * Checks `fields.sign` against a signature over all other fields, in constant time.
 * The algorithm is `type` when given, else `sign_type`, else guessed from the signature's length
 * (32 hex = MD5, 64 = HMAC-SHA256): HMAC-signed notifications may arrive without `sign_type`.
 */
export async function verify(fields: Readonly<Record<string, string>>, key: string, type?: SignType): Promise<boolean> {
  const received = fields.sign
  const algorithm = type ?? signTypeOf(fields)
  if (received === undefined || algorithm === undefined) return false
  const expected = await sign(fields, key, algorithm)
  return constantTimeEqual(received.toUpperCase(), expected)
}

/** The algorithm a received message claims: `sign_type` if present, else by signature length. */
export function signTypeOf(fields: Readonly<Record<string, string>>): SignType | undefined {
  const declared = fields.sign_type
  if (declared !== undefined)
    return (SIGN_TYPES as readonly string[]).includes(declared) ? (declared as SignType) : undefined
  const length = fields.sign?.length
  return length === 32 ? 'MD5' : length === 64 ? 'HMAC-SHA256' : undefined
}

/**
 * Constant-time string comparison. The length is not secret (32 or 64 hex), so unequal lengths
 * return early; equal lengths go through workerd's `timingSafeEqual`.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a)
  const right = encoder.encode(b)
  if (left.byteLength !== right.byteLength) return false
  return crypto.subtle.timingSafeEqual(left, right)
}

/** Lower-case hex SHA-256 of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', encoder.encode(text))).toLowerCase()
}

/** Lower-case hex HMAC-SHA256 of `message` under `secret`. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const digest = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(message))
  return toHex(digest).toLowerCase()
}

const hmacKeys = new Map<string, CryptoKey>()

// Importing the key costs more than the HMAC itself; a Worker uses two secrets (API key, relay secret).
async function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret)
  if (key === undefined) {
    key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ])
    if (hmacKeys.size >= 8) hmacKeys.clear()
    hmacKeys.set(secret, key)
  }
  return key
}

function toHex(buffer: ArrayBuffer): string {
  let out = ''
  for (const byte of new Uint8Array(buffer)) out += HEX[byte]
  return out
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase())
