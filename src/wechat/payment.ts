/**
 * @module
 * The payment a verified notification reports, as the shop receives it (reference §6.1): amounts
 * as integers of fen, coupons gathered. A verified message still has to carry sane values.
 */
import { amount, type Coupon, toOrderView } from './order'
import type { Fields } from './xml'

export type Payment = {
  out_trade_no: string
  transaction_id: string
  trade_state: 'SUCCESS'
  total_fee: number
  cash_fee: number
  fee_type: string
  time_end: string
  openid: string
  trade_type: string
  bank_type: string
  attach?: string
  coupons?: Coupon[]
}

/** `undefined` when a required field is missing or an amount is not an integer of fen. */
export function paymentOf(fields: Fields): Payment | undefined {
  const { out_trade_no, transaction_id, time_end } = fields
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
    return undefined // a coupon amount that is not an integer
  }
  if (!out_trade_no || !transaction_id || !time_end || total_fee === undefined || cash_fee === undefined)
    return undefined
  return {
    out_trade_no,
    transaction_id,
    trade_state: 'SUCCESS',
    total_fee,
    cash_fee,
    fee_type: fields.fee_type ?? 'CNY',
    time_end,
    openid: fields.openid ?? '',
    trade_type: fields.trade_type ?? '',
    bank_type: fields.bank_type ?? '',
    ...(fields.attach !== undefined && { attach: fields.attach }),
    ...(coupons !== undefined && { coupons }),
  }
}
