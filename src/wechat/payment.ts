/**
 * @module
 * The payment a verified message reports (a notification, reference §6.1, or an orderquery reply
 * §4.2), as the shop receives it: amounts as integers of fen, coupons gathered, empty elements
 * dropped (v2 does not sign them, so they carry nothing). A verified message still has to carry
 * sane values: CNY, cash_fee within total_fee, and — when it states one — trade_state SUCCESS.
 */
import * as z from 'zod/mini'
import { amount, toOrderView } from './order'
import type { Fields } from './xml'

const optionalString = z.optional(z.string())

export const Coupon = z.object({ type: optionalString, id: optionalString, fee: z.optional(z.int()) })
export type Coupon = z.infer<typeof Coupon>

/** The payment exactly as relayed to the shop (`{"type": "payment", "data": …}`) and as the ledger keeps it. */
export const Payment = z.object({
  out_trade_no: z.string(),
  transaction_id: z.string(),
  trade_state: z.literal('SUCCESS'),
  total_fee: z.int(),
  cash_fee: z.int(),
  fee_type: z.string(),
  time_end: z.string(),
  openid: z.string(),
  trade_type: z.string(),
  bank_type: z.string(),
  attach: optionalString,
  coupons: z.optional(z.array(Coupon)),
})
export type Payment = z.infer<typeof Payment>

/** The payment, or why the message does not describe one this service accepts. */
export type ReadPayment = { ok: true; payment: Payment } | { ok: false; reason: string }

/**
 * Reads the payment a verified message reports.
 * @example readPayment(fields) // { ok: true, payment: { out_trade_no: '…', total_fee: 101, … } }
 */
export function readPayment(message: Fields): ReadPayment {
  const fields: Record<string, string> = {}
  for (const [name, value] of Object.entries(message)) if (value !== '') fields[name] = value
  const { out_trade_no, transaction_id, time_end } = fields
  if (fields.trade_state !== undefined && fields.trade_state !== 'SUCCESS')
    return { ok: false, reason: `trade_state is ${fields.trade_state.slice(0, 32)}, not SUCCESS` }
  const feeType = fields.fee_type ?? 'CNY'
  if (feeType !== 'CNY') return { ok: false, reason: `fee_type ${feeType.slice(0, 16)} is not CNY` }
  const total_fee = amount(fields.total_fee)
  // cash_fee is documented as always sent, yet the doc's own sample lacks it: what no coupon paid.
  const coupon_fee = amount(fields.coupon_fee ?? '0')
  const cash_fee =
    fields.cash_fee !== undefined
      ? amount(fields.cash_fee)
      : total_fee !== undefined && coupon_fee !== undefined && coupon_fee <= total_fee
        ? total_fee - coupon_fee
        : undefined
  let coupons: Coupon[] | undefined
  try {
    coupons = toOrderView(fields).coupons as Coupon[] | undefined
  } catch {
    return { ok: false, reason: 'a coupon amount is not an integer of fen' }
  }
  if (!out_trade_no || !transaction_id || !time_end || total_fee === undefined || cash_fee === undefined)
    return { ok: false, reason: 'missing or invalid payment fields' }
  if (cash_fee > total_fee) return { ok: false, reason: `cash_fee ${cash_fee} is above total_fee ${total_fee}` }
  return {
    ok: true,
    payment: {
      out_trade_no,
      transaction_id,
      trade_state: 'SUCCESS',
      total_fee,
      cash_fee,
      fee_type: feeType,
      time_end,
      openid: fields.openid ?? '',
      trade_type: fields.trade_type ?? '',
      bank_type: fields.bank_type ?? '',
      ...(fields.attach !== undefined && { attach: fields.attach }),
      ...(coupons !== undefined && { coupons }),
    },
  }
}
