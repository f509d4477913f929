/**
 * @module
 * The order record the ledger keeps (schema v2), how a v1 record from KV is adopted, and how far
 * along an order and a refund are (their ranks; transition.ts moves them forward only).
 */
import * as z from 'zod/mini'
import { Payment } from '../wechat/payment'

export { Payment }

export const TRADE_STATES = [
  'NOTPAY',
  'USERPAYING',
  'ACCEPT',
  'PAYERROR',
  'CLOSED',
  'REVOKED',
  'SUCCESS',
  'REFUND',
] as const
export type TradeState = (typeof TRADE_STATES)[number]

// How far along an order is: WeChat's signed word that money moved is the truth even if a close
// raced it; a refund follows a payment.
export const TRADE_RANK: Record<TradeState, number> = {
  NOTPAY: 0,
  USERPAYING: 1,
  ACCEPT: 1,
  PAYERROR: 2,
  CLOSED: 3,
  REVOKED: 3,
  SUCCESS: 4,
  REFUND: 5,
}

/** Paid: the money moved (a later refund does not undo that). */
export const isPaid = (state: TradeState) => TRADE_RANK[state] >= TRADE_RANK.SUCCESS
/** Settled: nothing more will happen to the order's payment. */
export const isSettled = (state: TradeState) => TRADE_RANK[state] >= TRADE_RANK.CLOSED

const optionalString = z.optional(z.string())
const optionalInt = z.optional(z.int())

/** What was placed with WeChat; v1 records in KV have exactly these fields (README "Storage"). */
const v1Fields = {
  out_trade_no: z.string(),
  trade_type: z.string(),
  body: z.string(),
  total_fee: z.int(),
  openid: optionalString,
  attach: optionalString,
  notify_url: z.string(),
  fingerprint: z.string(),
  prepay_id: optionalString,
  prepay_expires_at: optionalString,
  code_url: optionalString,
  mweb_url: optionalString,
  trade_state: z.enum(TRADE_STATES),
  transaction_id: optionalString,
  time_end: optionalString,
  cash_fee: optionalInt,
  bank_type: optionalString,
  relayed_at: optionalString,
  created_at: z.string(),
  updated_at: z.string(),
}

export const OrderRecordV1 = z.object({ v: z.literal(1), ...v1Fields })

/** A refund's life here: REQUESTING until WeChat accepts it, then WeChat's own states (refunds §2.2). */
export const REFUND_STATES = ['REQUESTING', 'PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE'] as const
export type RefundState = (typeof REFUND_STATES)[number]
/** How far along a refund is: every final state ranks the same, and the first one learned stays. */
export const REFUND_RANK: Record<RefundState, number> = {
  REQUESTING: 0,
  PROCESSING: 1,
  SUCCESS: 2,
  REFUNDCLOSE: 2,
  CHANGE: 2,
}
/** Final: WeChat will not change it again; the first final state learned is the only one. */
export const isFinalRefund = (state: RefundState) => REFUND_RANK[state] === REFUND_RANK.SUCCESS

/** How a relay to the shop went (a payment's, or a refund's). */
const relayFields = {
  relayed_at: optionalString,
  relay_failures: optionalInt,
  relay_error: optionalString,
  /** Set once the relay retry schedule is spent without a delivery. */
  relay_failed_at: optionalString,
}

export const Refund = z.object({
  out_refund_no: z.string(),
  refund_fee: z.int(),
  refund_desc: optionalString,
  /** Where the refund's result is relayed. */
  notify_url: z.string(),
  /** refund_fee, refund_desc and notify_url as asked: the same out_refund_no must ask the same. */
  fingerprint: z.string(),
  refund_status: z.enum(REFUND_STATES),
  refund_id: optionalString,
  success_time: optionalString,
  refund_recv_accout: optionalString,
  requested_at: z.string(),
  updated_at: z.string(),
  ...relayFields,
})
export type Refund = z.infer<typeof Refund>

export const OrderRecord = z.object({
  v: z.literal(2),
  ...v1Fields,
  /** The appid the order was placed under; absent (records from before, v1 records): the default appid. */
  appid: optionalString,
  /** The payment to relay (and to redeliver), once one is known. */
  payment: z.optional(Payment),
  ...relayFields,
  refunds: z.optional(z.array(Refund)),
  /** Set when the record came from a v1 KV record. */
  adopted_at: optionalString,
})
export type OrderRecord = z.infer<typeof OrderRecord>

/** A v1 record as the ledger keeps it: same facts; a recorded payment becomes the relay body. */
export function adopt(v1: z.infer<typeof OrderRecordV1>, now: string): OrderRecord {
  const { v: _v, ...fields } = v1
  const record: OrderRecord = { v: 2, ...fields, adopted_at: now }
  if (isPaid(v1.trade_state) && v1.transaction_id) {
    record.payment = {
      out_trade_no: v1.out_trade_no,
      transaction_id: v1.transaction_id,
      trade_state: 'SUCCESS',
      total_fee: v1.total_fee,
      cash_fee: v1.cash_fee ?? v1.total_fee,
      fee_type: 'CNY',
      time_end: v1.time_end ?? '',
      openid: v1.openid ?? '',
      trade_type: v1.trade_type,
      bank_type: v1.bank_type ?? '',
      ...(v1.attach !== undefined && { attach: v1.attach }),
    }
  }
  return record
}

/** A state WeChat reported, if it is one this service knows. */
export function tradeState(value: string | undefined): TradeState | undefined {
  return (TRADE_STATES as readonly string[]).includes(value ?? '') ? (value as TradeState) : undefined
}

/** The appid an order belongs to: the one it was placed under, else the default (README "Storage"). */
export function appidOf(record: Pick<OrderRecord, 'appid'>, defaultAppid: string): string {
  return record.appid ?? defaultAppid
}
