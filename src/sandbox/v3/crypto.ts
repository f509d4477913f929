/**
 * @module
 * The WebCrypto the v3 sandbox needs (reference §9): PEM keys, SHA256withRSA (RSASSA-PKCS1-v1_5 +
 * SHA-256), AEAD_AES_256_GCM with the APIv3 key, SHA-1 hex, and the few fields of an X.509
 * certificate that `GET /v3/certificates` reports (a DER walk: WebCrypto cannot read certificates).
 */
import { fromBase64, toBase64 } from '../../crypto'

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const
const encoder = new TextEncoder()

/** The DER inside a PEM block; `undefined` when the text is not one base64 PEM block. */
export function pemBody(pem: string, label: string): Uint8Array | undefined {
  const match = new RegExp(`^-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----$`).exec(pem.trim())
  return match ? fromBase64((match[1] ?? '').replace(/\s+/g, '')) : undefined
}

/** PKCS#1 `RSAPrivateKey` wrapped in a PKCS#8 envelope (rsaEncryption, NULL parameters), reference §9.2. */
function pkcs1ToPkcs8(p1: Uint8Array): Uint8Array {
  const len = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff])
  const octets = [0x04, ...len(p1.length), ...p1]
  const body = [
    0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
  ]
  return new Uint8Array([0x30, ...len(body.length + octets.length), ...body, ...octets])
}

/** The DER of a private key PEM, PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`). */
export function privateKeyDer(pem: string): Uint8Array | undefined {
  const pkcs8 = pemBody(pem, 'PRIVATE KEY')
  if (pkcs8) return pkcs8
  const pkcs1 = pemBody(pem, 'RSA PRIVATE KEY')
  return pkcs1 && pkcs1ToPkcs8(pkcs1)
}

/** An RSA signing key; `extractable` lets {@link publicOf} derive its public half. */
export function importSigningKey(der: Uint8Array, extractable = false): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', der, RSA, extractable, ['sign'])
}

/** An RSA verifying key from SubjectPublicKeyInfo DER. */
export function importVerifyingKey(spki: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('spki', spki, RSA, false, ['verify'])
}

/** The public half of an extractable private key, as a verifying key. */
export async function publicOf(privateKey: CryptoKey): Promise<CryptoKey> {
  const { kty, n, e } = (await crypto.subtle.exportKey('jwk', privateKey)) as JsonWebKey
  return crypto.subtle.importKey('jwk', { kty, n, e, alg: 'RS256', ext: false }, RSA, false, ['verify'])
}

/** base64 SHA256withRSA of `message` (text or exact bytes). */
export async function rsaSign(key: CryptoKey, message: string | Uint8Array): Promise<string> {
  const bytes = typeof message === 'string' ? encoder.encode(message) : message
  return toBase64(new Uint8Array(await crypto.subtle.sign(RSA, key, bytes)))
}

/** Whether `signature` (base64) is SHA256withRSA of `message` under `key`; malformed input is false. */
export async function rsaVerify(key: CryptoKey, message: Uint8Array, signature: string): Promise<boolean> {
  const bytes = fromBase64(signature)
  if (!bytes) return false
  try {
    return await crypto.subtle.verify(RSA, key, bytes, message)
  } catch {
    return false
  }
}

/** Text lines, each ending in `\n`, then `tail` bytes and a final `\n`: the v3 signing message (§3.1, §4.1). */
export function message(lines: readonly string[], tail: Uint8Array): Uint8Array {
  const head = encoder.encode(lines.map((line) => `${line}\n`).join(''))
  const out = new Uint8Array(head.length + tail.length + 1)
  out.set(head)
  out.set(tail, head.length)
  out[out.length - 1] = 0x0a
  return out
}

/** AEAD_AES_256_GCM as WeChat sends it (§5.2): base64 of ciphertext ‖ 16-byte tag. */
export async function aeadEncrypt(options: {
  apiV3Key: string
  nonce: string
  associatedData: string
  plaintext: string
}): Promise<string> {
  const { apiV3Key, nonce, associatedData, plaintext } = options
  const key = await crypto.subtle.importKey('raw', encoder.encode(apiV3Key), 'AES-GCM', false, ['encrypt'])
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: encoder.encode(nonce), additionalData: encoder.encode(associatedData), tagLength: 128 },
    key,
    encoder.encode(plaintext),
  )
  return toBase64(new Uint8Array(sealed))
}

/** Lower-case hex SHA-1 of the bytes (the bill's hash_value, §6.12). */
export async function sha1Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', bytes))
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** What `GET /v3/certificates` reports of a certificate, and its key. */
export type CertificateInfo = { serial: string; notBefore: number; notAfter: number; spki: Uint8Array }

/**
 * Reads an X.509 certificate's serial (upper-case hex, as WeChat writes serial_no), validity and
 * SubjectPublicKeyInfo: Certificate → tbsCertificate → [0] version, serial, signature algorithm,
 * issuer, validity, subject, subjectPublicKeyInfo (RFC 5280 §4.1).
 * @throws {Error} when the DER is not shaped like a certificate.
 */
export function readCertificate(der: Uint8Array): CertificateInfo {
  const tlv = (offset: number) => {
    if (offset + 2 > der.length) throw new Error('certificate DER is truncated')
    let length = der[offset + 1] as number
    let start = offset + 2
    if (length & 0x80) {
      const count = length & 0x7f
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + (der[start++] as number)
    }
    if (start + length > der.length) throw new Error('certificate DER is truncated')
    return { tag: der[offset] as number, start, end: start + length, offset }
  }
  const tbs = tlv(tlv(0).start)
  let field = tlv(tbs.start)
  if (field.tag === 0xa0) field = tlv(field.end)
  const serialBytes = der.subarray(field.start, field.end)
  const serial = Array.from(serialBytes, (byte) => byte.toString(16).padStart(2, '0'))
    .join('')
    .replace(/^00(?=[89a-f])/, '')
    .toUpperCase()
  const algorithm = tlv(field.end)
  const issuer = tlv(algorithm.end)
  const validity = tlv(issuer.end)
  const notBefore = tlv(validity.start)
  const notAfter = tlv(notBefore.end)
  const subject = tlv(validity.end)
  const spki = tlv(subject.end)
  return {
    serial,
    notBefore: derTime(der, notBefore),
    notAfter: derTime(der, notAfter),
    spki: der.slice(spki.offset, spki.end),
  }
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) as epoch milliseconds. */
function derTime(der: Uint8Array, at: { tag: number; start: number; end: number }): number {
  const text = new TextDecoder().decode(der.subarray(at.start, at.end))
  const match = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (!match || (at.tag !== 0x17 && at.tag !== 0x18)) throw new Error('certificate validity is not a DER time')
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, ...number[]]
  const fullYear = at.tag === 0x17 ? (year < 50 ? 2000 + year : 1900 + year) : year
  return Date.UTC(fullYear, (month as number) - 1, day, hour, minute, second)
}
