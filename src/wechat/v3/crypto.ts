/**
 * @module
 * The WebCrypto pieces of WeChat Pay APIv3 (v3 reference §9): PEM and DER, the merchant's RSA key
 * (PKCS#8, or PKCS#1 wrapped into PKCS#8), WeChat's public key or a platform certificate's
 * SubjectPublicKeyInfo, SHA256withRSA (RSASSA-PKCS1-v1_5) signatures, AEAD_AES_256_GCM and SHA-1.
 * Keys are imported once per isolate, cached by a hash of their text, never by the text itself.
 */
import { fromBase64, toBase64 } from '../../crypto'
import { fail } from '../../errors'
import { cachedKey } from './key-cache'

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const
const encoder = new TextEncoder()

/** A PEM, DER or key that cannot be what it claims; the message never contains key material. */
export class KeyError extends Error {
  override readonly name = 'KeyError'
}

/**
 * The label and DER bytes of the first PEM block in `pem`.
 * @example pemToDer(pem) // { label: 'PRIVATE KEY', der: Uint8Array(1216) }
 * @throws {KeyError} when there is no well-formed PEM block.
 */
export function pemToDer(pem: string): { label: string; der: Uint8Array } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem)
  const der = m ? fromBase64((m[2] as string).replace(/\s+/g, '')) : undefined
  if (!m || der === undefined || der.byteLength === 0) throw new KeyError('not a PEM block')
  return { label: m[1] as string, der }
}

/**
 * Wraps a PKCS#1 RSAPrivateKey (`BEGIN RSA PRIVATE KEY`) in a PKCS#8 PrivateKeyInfo, the only
 * private-key form WebCrypto imports: version 0, rsaEncryption with NULL parameters, the key as an OCTET STRING.
 */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]
  const body = [0x02, 0x01, 0x00, ...algorithm, ...tlv(0x04, pkcs1)]
  return Uint8Array.from(tlv(0x30, body))
}

function tlv(tag: number, content: ArrayLike<number>): number[] {
  const n = content.length
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : undefined
  if (!length) throw new KeyError('DER content too long')
  return [tag, ...length, ...Array.from(content)]
}

/** One DER element: its tag, where its content starts and where the element ends. */
type Element = { tag: number; start: number; content: number; end: number }

function element(der: Uint8Array, at: number, limit = der.byteLength): Element {
  const tag = der[at]
  let length = der[at + 1]
  let content = at + 2
  if (tag === undefined || length === undefined) throw new KeyError('truncated DER')
  if (length & 0x80) {
    const bytes = length & 0x7f
    if (bytes < 1 || bytes > 3) throw new KeyError('unsupported DER length')
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[content++] ?? Number.NaN)
  }
  const end = content + length
  if (!Number.isInteger(end) || end > limit) throw new KeyError('truncated DER')
  return { tag, start: at, content, end }
}

/**
 * The SubjectPublicKeyInfo of an X.509 certificate (DER): Certificate → tbsCertificate → skip the
 * optional [0] version, serialNumber, signature, issuer, validity, subject (RFC 5280 §4.1).
 * @throws {KeyError} when the DER is not shaped like a certificate.
 */
export function spkiOfCertificate(der: Uint8Array): Uint8Array {
  const certificate = element(der, 0)
  if (certificate.tag !== 0x30) throw new KeyError('not a certificate')
  const tbs = element(der, certificate.content, certificate.end)
  if (tbs.tag !== 0x30) throw new KeyError('not a certificate')
  let at = tbs.content
  if (element(der, at, tbs.end).tag === 0xa0) at = element(der, at, tbs.end).end
  for (let i = 0; i < 5; i++) at = element(der, at, tbs.end).end
  const spki = element(der, at, tbs.end)
  if (spki.tag !== 0x30) throw new KeyError('no SubjectPublicKeyInfo in the certificate')
  return der.slice(spki.start, spki.end)
}

/**
 * The merchant's signing key from `apiclient_key.pem`: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY` (PKCS#1).
 * @throws {KeyError} for any other PEM, or one WebCrypto refuses.
 */
export function importPrivateKey(pem: string): Promise<CryptoKey> {
  return cachedKey('private', pem, async () => {
    const { label, der } = pemToDer(pem)
    if (label !== 'PRIVATE KEY' && label !== 'RSA PRIVATE KEY') throw new KeyError(`a ${label} is not a private key`)
    const pkcs8 = label === 'RSA PRIVATE KEY' ? pkcs1ToPkcs8(der) : der
    return crypto.subtle.importKey('pkcs8', pkcs8, RSA, false, ['sign']).catch(() => {
      throw new KeyError('the private key is not an RSA key WebCrypto accepts')
    })
  })
}

/**
 * A verifying key from `BEGIN PUBLIC KEY` (WeChat Pay public key, SPKI) or `BEGIN CERTIFICATE` (platform certificate).
 * @throws {KeyError} for any other PEM, or one WebCrypto refuses.
 */
export function importPublicKey(pem: string): Promise<CryptoKey> {
  return cachedKey('public', pem, async () => {
    const { label, der } = pemToDer(pem)
    if (label !== 'PUBLIC KEY' && label !== 'CERTIFICATE') throw new KeyError(`a ${label} is not a public key`)
    const spki = label === 'CERTIFICATE' ? spkiOfCertificate(der) : der
    return crypto.subtle.importKey('spki', spki, RSA, false, ['verify']).catch(() => {
      throw new KeyError('the public key is not an RSA key WebCrypto accepts')
    })
  })
}

/**
 * The merchant key of a configuration, or `wxPayError.config` naming WXPAY_PRIVATE_KEY when WebCrypto refuses it.
 * @example await rsaSign(await merchantKey(config.v3.privateKey), message)
 */
export async function merchantKey(pem: string): Promise<CryptoKey> {
  try {
    return await importPrivateKey(pem)
  } catch (err) {
    if (err instanceof KeyError) throw fail('config', `WXPAY_PRIVATE_KEY: ${err.message}`)
    throw err
  }
}

/** SHA256withRSA over `message` (UTF-8 when text), base64 on one line. */
export async function rsaSign(key: CryptoKey, message: string | Uint8Array): Promise<string> {
  const bytes = typeof message === 'string' ? encoder.encode(message) : message
  return toBase64(new Uint8Array(await crypto.subtle.sign(RSA, key, bytes)))
}

/** Whether `signature` (base64) is SHA256withRSA over `message` under `key`; malformed input is false, never thrown. */
export async function rsaVerify(key: CryptoKey, message: string | Uint8Array, signature: string): Promise<boolean> {
  const bytes = fromBase64(signature)
  if (bytes === undefined || bytes.byteLength === 0) return false
  try {
    return await crypto.subtle.verify(RSA, key, bytes, typeof message === 'string' ? encoder.encode(message) : message)
  } catch {
    return false
  }
}

export { aesGcmDecrypt, aesGcmEncrypt, CipherError, type Sealed, sha1Hex } from './aead'
