/**
 * @module
 * The refund notification's `req_info` (退款结果通知, refunds reference §3.2): base64 → AES-256-ECB
 * under the lower-case hex MD5 of the APIv2 key, used as 32 ASCII bytes → PKCS#7 → UTF-8 → a flat
 * `<root>` document. The message carries no signature, so decrypting to a well-formed `<root>` with
 * the refund's ids is its only proof of origin: a wrong key passes the padding check about once in
 * 256 tries, never this.
 */
import { aesEcbDecrypt, aesKey, CipherError, fromBase64 } from '../crypto'
import { decode, type Fields, XmlError } from './xml'

/** Why a `req_info` was refused; each `message` is safe to log (no key, no plaintext). */
export type NoticeFailure = 'base64' | 'length' | 'padding' | 'utf8' | 'xml' | 'fields'

/** Thrown by {@link decryptRefundNotice}; branch on `reason`. */
export class RefundNoticeError extends Error {
  override readonly name = 'RefundNoticeError'
  constructor(
    readonly reason: NoticeFailure,
    message: string,
  ) {
    super(message)
  }
}

/** req_info is documented as String(1024), real ones run past 1,100: anything far beyond is refused unread. */
export const MAX_REQ_INFO_LENGTH = 8 * 1024

// Fields without which a decrypted document cannot be a refund notice (§3.3, all required).
const IDS = ['out_refund_no', 'refund_id', 'out_trade_no', 'transaction_id'] as const

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()
const noticeKeys = new Map<string, Promise<CryptoKey>>()

/**
 * The AES key for an APIv2 key: MD5 as 32 lower-case hex characters, taken as their ASCII bytes.
 * @example noticeKey('K3yFor7estOnlyNotARealMerchant01') // AES-256 key of 'ee0874f511145df02490356a2ca5b480'
 */
export function noticeKey(apiKey: string): Promise<CryptoKey> {
  let key = noticeKeys.get(apiKey)
  if (key === undefined) {
    key = crypto.subtle.digest('MD5', encoder.encode(apiKey)).then((digest) => {
      let hex = ''
      for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0')
      return aesKey(encoder.encode(hex))
    })
    if (noticeKeys.size >= 4) noticeKeys.clear()
    noticeKeys.set(apiKey, key)
  }
  return key
}

/**
 * Decrypts a refund notification's `req_info` into its fields (every value a string).
 * @example const fields = await decryptRefundNotice(outer.req_info, config.apiKey) // { refund_status: 'SUCCESS', … }
 * @throws {RefundNoticeError} when it is not base64, not AES-256-ECB/PKCS#7 under this key, not UTF-8,
 *   not a flat `<root>` document, or lacks the refund's ids.
 */
export async function decryptRefundNotice(reqInfo: string, apiKey: string): Promise<Fields> {
  if (reqInfo.length > MAX_REQ_INFO_LENGTH) {
    throw new RefundNoticeError('length', `req_info is longer than ${MAX_REQ_INFO_LENGTH} characters`)
  }
  const bytes = fromBase64(reqInfo)
  if (bytes === undefined) throw new RefundNoticeError('base64', 'req_info is not base64')
  let plain: Uint8Array
  try {
    plain = await aesEcbDecrypt(await noticeKey(apiKey), bytes)
  } catch (err) {
    if (!(err instanceof CipherError)) throw err
    const reason = err.message.startsWith('padding') ? 'padding' : 'length'
    throw new RefundNoticeError(reason, `req_info does not decrypt under the merchant key: ${err.message}`)
  }
  let text: string
  try {
    text = utf8.decode(plain)
  } catch {
    throw new RefundNoticeError('utf8', 'decrypted req_info is not UTF-8 (wrong key?)')
  }
  let fields: Fields
  try {
    fields = decode(text, { root: 'root' })
  } catch (err) {
    if (!(err instanceof XmlError)) throw err
    throw new RefundNoticeError('xml', `decrypted req_info is not a <root> document: ${err.message}`)
  }
  const missing = IDS.filter((name) => !fields[name])
  if (missing.length > 0) {
    throw new RefundNoticeError('fields', `decrypted req_info lacks ${missing.join(', ')}`)
  }
  return fields
}
