/**
 * @module
 * Identifiers the sandbox makes up, shaped like WeChat's own (samples in reference §10):
 * prepay_id `wx<yyyyMMddHHmmss><hex>`, 28-digit transaction_id `4200000…`, 28-character openid.
 */
import { beijingTime } from './time'

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const OPENID = `${ALNUM}-_`

/** `length` characters drawn from `alphabet` (alphabets here have fewer than 256 symbols). */
export function randomString(length: number, alphabet: string = ALNUM): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let out = ''
  for (const byte of bytes) out += alphabet[byte % alphabet.length]
  return out
}

/** A reply's nonce_str: WeChat's are 16–32 letters and digits. */
export function nonce(): string {
  return randomString(32)
}

function digits(length: number): string {
  return randomString(length, '0123456789')
}

function hex(length: number): string {
  return randomString(length, '0123456789abcdef')
}

/** A prepay_id: 36 characters, valid two hours (统一下单 prepay_id). */
export function prepayId(at: number): string {
  return `wx${beijingTime(at)}${hex(20)}`
}

/** A transaction_id: `4200000` + 3 digits + the Beijing date + 10 digits = 28 digits. */
export function transactionId(at: number): string {
  return `4200000${digits(3)}${beijingTime(at).slice(0, 8)}${digits(10)}`
}

/** An openid for a payer the sandbox invents (non-JSAPI orders have none until paid). */
export function openid(): string {
  return `o${randomString(27, OPENID)}`
}

/** The `pr` of a NATIVE code_url. */
export function codeUrl(): string {
  return `weixin://wxpay/bizpayurl?pr=${randomString(9)}`
}

/** An MWEB cashier page for a prepay_id. */
export function mwebUrl(prepay: string): string {
  return `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${prepay}&package=${digits(10)}`
}

/** A coupon id (代金券批次 ids are digits). */
export function couponId(): string {
  return digits(10)
}

/** true half of the time. */
export function coinFlip(): boolean {
  return (crypto.getRandomValues(new Uint8Array(1))[0] ?? 0) < 128
}

/** A refund_id: `50300` + 4 digits + the Beijing date + 12 digits = 29 digits (refunds reference §1.2). */
export function refundId(at: number): string {
  return `50300${digits(4)}${beijingTime(at).slice(0, 8)}${digits(12)}`
}
