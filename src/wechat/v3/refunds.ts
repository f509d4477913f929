/**
 * @module
 * Refunds between v2 fields and v3 JSON (v3 reference §6.10, §6.11, §5.2): the body of
 * `POST /v3/refund/domestic/refunds`, and a v3 refund object as the fields of a v2 refund reply or a
 * one-refund v2 refundquery reply, which src/wechat/refund.ts then reads as for v2.
 */
import { fail, PayError } from '../../errors'
import { type RefundNotice, refundNoticeOf } from '../refund'
import type { Fields } from '../xml'
import { object } from './orders'
import { beijingText } from './times'

/**
 * refundquery by out_trade_no (or by transaction_id or refund_id) does not exist in v3: only by
 * out_refund_no (§6.11). The caller lists the order's refunds from its own ledger and asks for each.
 */
export class RefundQueryByOrderError extends PayError {
  constructor() {
    super({
      kind: 'params',
      message:
        'WeChat Pay v3 looks refunds up by out_refund_no only: give out_refund_no (the ledger lists an order’s refunds)',
    })
  }
}

/** The v3 refund request for the fields of a v2 `/secapi/pay/refund` (see refundFields in refund.ts). */
export function refundRequest(fields: Record<string, string>): Record<string, unknown> {
  const refund = Number(fields.refund_fee)
  const total = Number(fields.total_fee)
  if (!fields.out_trade_no || !fields.out_refund_no || !Number.isSafeInteger(refund) || !Number.isSafeInteger(total))
    throw fail('params', 'a refund needs out_trade_no, out_refund_no, refund_fee and total_fee')
  return {
    out_trade_no: fields.out_trade_no,
    out_refund_no: fields.out_refund_no,
    ...(fields.refund_desc && { reason: fields.refund_desc }),
    ...(fields.notify_url && { notify_url: fields.notify_url }),
    amount: { refund, total, currency: 'CNY' },
  }
}

// v3 refund status → v2 refund_status (ABNORMAL is v2's CHANGE: the money could not reach the payer).
const STATUS: Record<string, string> = {
  SUCCESS: 'SUCCESS',
  CLOSED: 'REFUNDCLOSE',
  PROCESSING: 'PROCESSING',
  ABNORMAL: 'CHANGE',
}

// v3 funds_account → v2 refund_account (§6.10).
const ACCOUNT: Record<string, string> = {
  UNSETTLED: 'REFUND_SOURCE_UNSETTLED_FUNDS',
  AVAILABLE: 'REFUND_SOURCE_RECHARGE_FUNDS',
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  return undefined
}

/** A v3 refund object (the refund reply) as the fields of a v2 refund reply with result_code SUCCESS. */
export function refundReplyFields(r: Record<string, unknown>): Fields {
  const amount = object(r.amount)
  const fields: Record<string, string | undefined> = {
    out_trade_no: text(r.out_trade_no),
    out_refund_no: text(r.out_refund_no),
    refund_id: text(r.refund_id),
    transaction_id: text(r.transaction_id),
    refund_fee: text(amount.refund),
    total_fee: text(amount.total),
    cash_fee: text(amount.payer_total),
    cash_refund_fee: text(amount.payer_refund),
    settlement_refund_fee: text(amount.settlement_refund),
    coupon_refund_fee: text(amount.discount_refund),
  }
  return defined(fields)
}

/** A v3 refund object (refund query) as a v2 refundquery reply holding that one refund (`_0`). */
export function refundQueryFields(r: Record<string, unknown>): Fields {
  const amount = object(r.amount)
  const status = typeof r.status === 'string' ? STATUS[r.status] : undefined
  if (status === undefined) throw fail('upstream', `WeChat sent refund status ${String(r.status).slice(0, 20)}`)
  const success = typeof r.success_time === 'string' ? beijingText(r.success_time) : undefined
  const account = typeof r.funds_account === 'string' ? (ACCOUNT[r.funds_account] ?? r.funds_account) : undefined
  return defined({
    out_trade_no: text(r.out_trade_no),
    transaction_id: text(r.transaction_id),
    total_fee: text(amount.total),
    cash_fee: text(amount.payer_total),
    refund_count: '1',
    out_refund_no_0: text(r.out_refund_no),
    refund_id_0: text(r.refund_id),
    refund_fee_0: text(amount.refund),
    settlement_refund_fee_0: text(amount.settlement_refund),
    refund_status_0: status,
    refund_success_time_0: success,
    refund_recv_accout_0: text(r.user_received_account),
    refund_account_0: account,
    refund_channel_0: text(r.channel),
  })
}

/**
 * A decrypted REFUND.* resource (§5.2: `refund_status`, no settlement amount) as the RefundNotice v2
 * notifications give. v3 does not say which account paid or who asked: those stay empty.
 * @throws {PayError} `upstream` for a missing or malformed field.
 */
export function refundNoticeOfV3(r: Record<string, unknown>): RefundNotice {
  const amount = object(r.amount)
  const status = typeof r.refund_status === 'string' ? STATUS[r.refund_status] : undefined
  if (status === undefined || status === 'PROCESSING')
    throw fail('upstream', `the refund notification has refund_status ${String(r.refund_status).slice(0, 20)}`)
  const success = typeof r.success_time === 'string' ? beijingText(r.success_time) : undefined
  const refundFee = text(amount.refund)
  const notice = refundNoticeOf(
    defined({
      out_trade_no: text(r.out_trade_no),
      transaction_id: text(r.transaction_id),
      out_refund_no: text(r.out_refund_no),
      refund_id: text(r.refund_id),
      total_fee: text(amount.total),
      refund_fee: refundFee,
      // The notification carries no settlement amount; the refund query that confirms it does.
      settlement_refund_fee: text(amount.settlement_refund) ?? refundFee,
      refund_status: status,
      success_time: success,
      refund_recv_accout: text(r.user_received_account) ?? '-',
      refund_account: '-',
      refund_request_source: '-',
    }),
  )
  return {
    ...notice,
    refund_recv_accout: text(r.user_received_account) ?? '',
    refund_account: '',
    refund_request_source: '',
  }
}

function defined(fields: Record<string, string | undefined>): Fields {
  const out: Fields = {}
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value
  return out
}
