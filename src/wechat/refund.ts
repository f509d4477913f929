/**
 * @module
 * Refund messages (refunds reference §1–§3): the 申请退款 request, and what WeChat says back — the
 * refund reply, the refundquery reply (indexed `_$n` fields gathered into a list) and the decrypted
 * refund notification. Every amount is an integer of fen; a missing or malformed field is an
 * `upstream` {@link PayError}, never a guess. Replies must be verified (client.ts) before parsing.
 */
import { fail } from '../errors'
import { amount } from './order'
import type { Fields } from './xml'

/** Refund err_codes that mean "try again later with the same parameters and out_refund_no" (§1.4, §2.3, §5.5). */
export const RETRYABLE_REFUND_ERRORS: ReadonlySet<string> = new Set([
  'SYSTEMERROR',
  'BIZERR_NEED_RETRY',
  'FREQUENCY_LIMITED',
  'ORDER_NOT_READY',
  'INVALID_REQ_TOO_MUCH',
])

/** refund_status values (§2.2; `FAIL` is the older name of REFUNDCLOSE and is read as such). */
export const REFUND_STATUSES = ['PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE'] as const
export type RefundStatus = (typeof REFUND_STATUSES)[number]

/** out_refund_no: 1–64 of `0-9 A-Z a-z _ - | * @` (§1.1). */
export const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/

/** The 申请退款 parameters (§1.1). */
export type RefundParams = {
  out_trade_no: string
  out_refund_no: string
  /** The order's total in fen: WeChat requires the original total (§1.1). */
  total_fee: number
  refund_fee: number
  /** ≤ 80 characters; shown to the payer (§1.1). */
  refund_desc?: string
  notify_url: string
}

/**
 * The fields of a `/secapi/pay/refund` request (the client adds appid, mch_id, nonce_str, sign_type, sign).
 * @example refundFields({ out_trade_no: 'O1', out_refund_no: 'R1', total_fee: 101, refund_fee: 30, notify_url })
 * @throws {PayError} `params` for an amount that is not 1 ≤ refund_fee ≤ total_fee in fen, or a bad id or text.
 */
export function refundFields(request: RefundParams): Record<string, string> {
  const { out_trade_no, out_refund_no, total_fee, refund_fee, refund_desc, notify_url } = request
  if (!/^[0-9A-Za-z_\-|*@]{1,32}$/.test(out_trade_no)) throw fail('params', 'out_trade_no is not a valid order number')
  if (!OUT_REFUND_NO.test(out_refund_no)) throw fail('params', 'out_refund_no must be 1–64 of 0-9 A-Z a-z _ - | * @')
  if (!isFen(total_fee) || total_fee < 1) throw fail('params', 'total_fee must be a positive integer of fen')
  if (!isFen(refund_fee) || refund_fee < 1 || refund_fee > total_fee) {
    throw fail('params', 'refund_fee must be an integer of fen from 1 to total_fee')
  }
  if (refund_desc !== undefined && ([...refund_desc].length > 80 || /[\uD800-\uDFFF]/.test(refund_desc))) {
    throw fail('params', 'refund_desc must be at most 80 characters, none of them 4-byte UTF-8')
  }
  if (!/^https?:\/\/[^\s?#]+$/.test(notify_url)) throw fail('params', 'notify_url must be an http(s) URL without query')
  return {
    out_trade_no,
    out_refund_no,
    total_fee: String(total_fee),
    refund_fee: String(refund_fee),
    ...(refund_desc ? { refund_desc } : {}),
    notify_url,
  }
}

/** A refund WeChat accepted (result_code SUCCESS): accepted only, its outcome comes later (§1.3). */
export type RefundReceipt = {
  out_trade_no: string
  out_refund_no: string
  refund_id: string
  transaction_id: string
  refund_fee: number
  total_fee: number
  cash_fee?: number
  cash_refund_fee?: number
  settlement_refund_fee?: number
  coupon_refund_fee?: number
}

/**
 * Reads a verified `/secapi/pay/refund` reply with result_code SUCCESS and matches it to the refund
 * asked for: the same out_trade_no, out_refund_no, total_fee and refund_fee.
 * @example refundReceiptOf(reply, { out_trade_no: 'O1', out_refund_no: 'R1', total_fee: 101, refund_fee: 30 })
 * @throws {PayError} `upstream` for a missing or malformed field, or a reply about another refund.
 */
export function refundReceiptOf(
  fields: Fields,
  asked: Pick<RefundParams, 'out_trade_no' | 'out_refund_no' | 'total_fee' | 'refund_fee'>,
): RefundReceipt {
  const receipt: RefundReceipt = {
    out_trade_no: text(fields, 'out_trade_no'),
    out_refund_no: text(fields, 'out_refund_no'),
    refund_id: text(fields, 'refund_id'),
    transaction_id: text(fields, 'transaction_id'),
    refund_fee: fen(fields, 'refund_fee'),
    total_fee: fen(fields, 'total_fee'),
    ...optionalFen(fields, ['cash_fee', 'cash_refund_fee', 'settlement_refund_fee', 'coupon_refund_fee']),
  }
  for (const name of ['out_trade_no', 'out_refund_no', 'total_fee', 'refund_fee'] as const) {
    if (receipt[name] !== asked[name])
      throw fail('upstream', `the refund reply for ${asked.out_refund_no} reports another ${name} than was asked`)
  }
  return receipt
}

/** One refund of an order as refundquery reports it. */
export type RefundRecord = {
  out_refund_no: string
  refund_id: string
  refund_fee: number
  refund_status: RefundStatus
  settlement_refund_fee?: number
  success_time?: string
  refund_recv_accout?: string
  refund_account?: string
  refund_channel?: string
}

export type RefundQuery = {
  out_trade_no: string
  transaction_id: string
  total_fee: number
  cash_fee?: number
  /** All refunds of the order when WeChat pages them (> 10); absent when this reply holds them all. */
  total_refund_count?: number
  refunds: RefundRecord[]
}

/**
 * What a refundquery asked about (by one id), and what the asker already knows: the order's
 * total_fee and the refunds it holds (each reported one must carry the refund_fee asked for).
 */
export type RefundQueryAsked = {
  out_trade_no?: string
  out_refund_no?: string
  total_fee?: number
  refunds?: readonly { out_refund_no: string; refund_fee: number }[]
}

/**
 * Reads a verified `/pay/refundquery` reply — `refund_count` refunds from `_0` up, or the unindexed
 * form some replies use for a single refund (§2.2) — and matches it to what was asked.
 * @example refundQueryOf(reply, { out_refund_no: 'R1' }).refunds[0]?.refund_status // 'PROCESSING'
 * @throws {PayError} `upstream` for a missing or malformed field, or a reply about another order or refund.
 */
export function refundQueryOf(fields: Fields, asked: RefundQueryAsked): RefundQuery {
  const query = readRefundQuery(fields)
  const about = asked.out_refund_no ?? asked.out_trade_no ?? 'the refund'
  if (asked.out_trade_no !== undefined && query.out_trade_no !== asked.out_trade_no)
    throw fail('upstream', `the refundquery reply for ${about} is about order ${query.out_trade_no}`)
  if (asked.total_fee !== undefined && query.total_fee !== asked.total_fee)
    throw fail('upstream', `refundquery reports total_fee ${query.total_fee} for ${about}, not ${asked.total_fee}`)
  if (asked.out_refund_no !== undefined && !query.refunds.some((r) => r.out_refund_no === asked.out_refund_no))
    throw fail('upstream', `the refundquery reply for ${about} does not report it`)
  for (const known of asked.refunds ?? []) {
    const reported = query.refunds.find((r) => r.out_refund_no === known.out_refund_no)
    if (reported && reported.refund_fee !== known.refund_fee)
      throw fail(
        'upstream',
        `WeChat reports refund_fee ${reported.refund_fee} for ${known.out_refund_no}, ${known.refund_fee} was asked`,
      )
  }
  return query
}

function readRefundQuery(fields: Fields): RefundQuery {
  const refunds: RefundRecord[] = []
  if (fields.refund_count === undefined && fields.out_refund_no !== undefined) {
    refunds.push(recordOf(fields, ''))
  } else {
    const count = fen(fields, 'refund_count')
    if (count > 50) throw fail('upstream', `refundquery reported refund_count=${count}, more than 50`)
    for (let n = 0; n < count; n++) refunds.push(recordOf(fields, `_${n}`))
  }
  return {
    out_trade_no: text(fields, 'out_trade_no'),
    transaction_id: text(fields, 'transaction_id'),
    total_fee: fen(fields, 'total_fee'),
    ...optionalFen(fields, ['cash_fee', 'total_refund_count']),
    refunds,
  }
}

function recordOf(fields: Fields, n: string): RefundRecord {
  const record: RefundRecord = {
    out_refund_no: text(fields, `out_refund_no${n}`),
    refund_id: text(fields, `refund_id${n}`),
    refund_fee: fen(fields, `refund_fee${n}`),
    refund_status: status(fields, `refund_status${n}`, REFUND_STATUSES),
  }
  const settlement = fields[`settlement_refund_fee${n}`]
  if (settlement) record.settlement_refund_fee = fen(fields, `settlement_refund_fee${n}`)
  const successTime = fields[`refund_success_time${n}`]
  if (successTime) record.success_time = time(successTime, `refund_success_time${n}`)
  for (const name of ['refund_recv_accout', 'refund_account', 'refund_channel'] as const) {
    const value = fields[`${name}${n}`]
    if (value) record[name] = value
  }
  return record
}

/** A refund's final state as the (decrypted) notification tells it: SUCCESS, REFUNDCLOSE or CHANGE (§3). */
export type RefundNotice = {
  out_trade_no: string
  transaction_id: string
  out_refund_no: string
  refund_id: string
  total_fee: number
  refund_fee: number
  settlement_refund_fee: number
  settlement_total_fee?: number
  refund_status: Exclude<RefundStatus, 'PROCESSING'>
  success_time?: string
  refund_recv_accout: string
  refund_account: string
  refund_request_source: string
}

/**
 * Reads the fields of a decrypted `req_info` (see refund-notify.ts).
 * @throws {PayError} `upstream` for a missing or malformed field (SUCCESS requires success_time).
 */
export function refundNoticeOf(fields: Fields): RefundNotice {
  const refund_status = status(fields, 'refund_status', ['SUCCESS', 'REFUNDCLOSE', 'CHANGE'] as const)
  const notice: RefundNotice = {
    out_trade_no: text(fields, 'out_trade_no'),
    transaction_id: text(fields, 'transaction_id'),
    out_refund_no: text(fields, 'out_refund_no'),
    refund_id: text(fields, 'refund_id'),
    total_fee: fen(fields, 'total_fee'),
    refund_fee: fen(fields, 'refund_fee'),
    settlement_refund_fee: fen(fields, 'settlement_refund_fee'),
    ...optionalFen(fields, ['settlement_total_fee']),
    refund_status,
    refund_recv_accout: text(fields, 'refund_recv_accout'),
    refund_account: text(fields, 'refund_account'),
    refund_request_source: text(fields, 'refund_request_source'),
  }
  if (fields.success_time) notice.success_time = time(fields.success_time, 'success_time')
  else if (refund_status === 'SUCCESS') throw fail('upstream', 'a SUCCESS refund notification lacks success_time')
  if (notice.refund_fee > notice.total_fee) throw fail('upstream', 'the refund notification has refund_fee > total_fee')
  return notice
}

function isFen(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

function text(fields: Fields, name: string): string {
  const value = fields[name]
  if (!value) throw fail('upstream', `WeChat's refund message lacks ${name}`)
  return value
}

function fen(fields: Fields, name: string): number {
  const value = amount(fields[name])
  if (value === undefined) {
    throw fail('upstream', `WeChat sent ${name}=${(fields[name] ?? 'nothing').slice(0, 20)}, not an integer of fen`)
  }
  return value
}

function optionalFen<N extends string>(fields: Fields, names: readonly N[]): Partial<Record<N, number>> {
  const out: Partial<Record<N, number>> = {}
  for (const name of names) if (fields[name]) out[name] = fen(fields, name)
  return out
}

function status<S extends string>(fields: Fields, name: string, allowed: readonly S[]): S {
  // WxJava's older tables call a closed refund FAIL (§2.2, §6).
  const value = fields[name] === 'FAIL' ? 'REFUNDCLOSE' : fields[name]
  if (!(allowed as readonly (string | undefined)[]).includes(value)) {
    throw fail('upstream', `WeChat sent ${name}=${(fields[name] ?? 'nothing').slice(0, 20)}, not a refund status`)
  }
  return value as S
}

// `2017-12-15 09:46:01`, Beijing time (§2.2, §3.3).
function time(value: string, name: string): string {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) {
    throw fail('upstream', `WeChat sent ${name}=${value.slice(0, 20)}, not yyyy-MM-dd HH:mm:ss`)
  }
  return value
}
