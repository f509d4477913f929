/**
 * @module
 * What the v3 sandbox needs beyond the shared v3 crypto (src/wechat/v3/crypto.ts): the public half
 * of the merchant's private key (the sandbox checks the merchant's signatures with it in dev), the
 * request message over exact body bytes, and the serial and validity of its platform certificate
 * (what `GET /v3/certificates` reports; WebCrypto cannot read certificates, so a DER walk).
 */
import { KeyError, pemToDer, pkcs1ToPkcs8 } from '../../wechat/v3/crypto'

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const
const encoder = new TextEncoder()

/**
 * The verifying key of a private key PEM (PKCS#8 or PKCS#1): imported extractable once, its modulus
 * and exponent re-imported as a public key.
 * @throws {KeyError} when the PEM is not an RSA private key.
 */
export async function publicKeyOf(privatePem: string): Promise<CryptoKey> {
  const { label, der } = pemToDer(privatePem)
  if (label !== 'PRIVATE KEY' && label !== 'RSA PRIVATE KEY') throw new KeyError(`a ${label} is not a private key`)
  const pkcs8 = label === 'RSA PRIVATE KEY' ? pkcs1ToPkcs8(der) : der
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, RSA, true, ['sign']).catch(() => {
    throw new KeyError('the private key is not an RSA key WebCrypto accepts')
  })
  const { kty, n, e } = (await crypto.subtle.exportKey('jwk', key)) as JsonWebKey
  return crypto.subtle.importKey('jwk', { kty, n, e, alg: 'RS256', ext: false }, RSA, false, ['verify'])
}

/**
 * A request's signed message (§3.1): the text lines, each ending in `\n`, then the body's exact bytes
 * and a final `\n`. Bytes, not text, so a body that is not UTF-8 is still checked as sent.
 */
export function requestBytes(lines: readonly string[], body: Uint8Array): Uint8Array {
  const head = encoder.encode(lines.map((line) => `${line}\n`).join(''))
  const out = new Uint8Array(head.length + body.length + 1)
  out.set(head)
  out.set(body, head.length)
  out[out.length - 1] = 0x0a
  return out
}

/** What `GET /v3/certificates` reports of a certificate. */
export type CertificateInfo = { serial: string; notBefore: number; notAfter: number }

/**
 * Reads an X.509 certificate's serial (upper-case hex, as WeChat writes serial_no) and validity: Certificate → tbsCertificate → [0] version, serial, signature algorithm,
 * issuer, validity (RFC 5280 §4.1).
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
    return { tag: der[offset] as number, start, end: start + length }
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
  return { serial, notBefore: derTime(der, notBefore), notAfter: derTime(der, notAfter) }
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
