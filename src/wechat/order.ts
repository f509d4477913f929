/**
 * @module
 * An order as WeChat reports it (orderquery reply or payment notification), for callers:
 * protocol fields dropped, amounts as integers of fen, flat `coupon_*_$n` gathered into `coupons`.
 */
import { fail } from '../errors'
import type { Fields } from './xml'

const PROTOCOL = new Set([
  'return_code',
  'return_msg',
  'result_code',
  'result_msg',
  'err_code',
  'err_code_des',
  'sign',
  'sign_type',
  'nonce_str',
])
const AMOUNTS = new Set(['total_fee', 'cash_fee', 'coupon_fee', 'settlement_total_fee', 'refund_fee'])
const COUPON = /^coupon_(type|id|fee)_(\d{1,2})$/

export type Coupon = { type?: string; id?: string; fee?: number }
export type OrderView = Record<string, string | number | Coupon[]>

/**
 * @example toOrderView({ total_fee: '101', coupon_id_0: '9', coupon_fee_0: '1', sign: '…' })
 * // { total_fee: 101, coupons: [{ id: '9', fee: 1 }] }
 */
export function toOrderView(fields: Fields): OrderView {
  const view: OrderView = {}
  const coupons: Coupon[] = []
  for (const [name, value] of Object.entries(fields)) {
    if (PROTOCOL.has(name)) continue
    const coupon = COUPON.exec(name)
    if (coupon) {
      const index = Number(coupon[2])
      const slot = coupons[index] ?? {}
      coupons[index] = slot
      if (coupon[1] === 'fee') slot.fee = amountOf(name, value)
      else slot[coupon[1] as 'type' | 'id'] = value
    } else if (AMOUNTS.has(name) || name === 'coupon_count') {
      view[name] = amountOf(name, value)
    } else {
      view[name] = value
    }
  }
  const gathered = coupons.filter((c) => c !== undefined)
  if (gathered.length > 0) view.coupons = gathered
  return view
}

/** WeChat sends amounts as decimal text of fen; `undefined` for anything else. */
export function amount(value: string | undefined): number | undefined {
  return value !== undefined && /^(0|[1-9][0-9]{0,14})$/.test(value) ? Number(value) : undefined
}

function amountOf(name: string, value: string): number {
  const fen = amount(value)
  if (fen === undefined)
    throw fail('upstream', `WeChat sent ${name}=${value.slice(0, 20)}, not an integer number of fen`)
  return fen
}
