/**
 * @module
 * An order as WeChat reports it (orderquery reply or payment notification), for callers:
 * protocol fields dropped, amounts as integers of fen, flat `coupon_*_$n` gathered into `coupons`.
 */
import { fail } from '../errors'
import type { Coupon } from './payment'
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

/** What an orderquery asked about: the order, and what the asker already knows of it. */
export type OrderAsked = { out_trade_no: string; transaction_id?: string; total_fee?: number }

/** A verified orderquery reply, matched to what was asked. */
export type OrderReply = {
  out_trade_no: string
  trade_state: string | undefined
  /** Absent when WeChat leaves it out (an unpaid order may be reported without it). */
  total_fee: number | undefined
  fields: Fields
}

/**
 * Reads a verified orderquery reply (reference §4.2) and matches it to what was asked: the same
 * out_trade_no, and the transaction_id and total_fee the asker knows when the reply states them.
 * Every path that asks orderquery reads the reply here (the queryOrder route, the self-check,
 * the reconciliation).
 * @example orderReplyOf(reply, { out_trade_no: 'O1', total_fee: 101 }).trade_state // 'SUCCESS'
 * @throws {PayError} `upstream` when the reply is about another order or another amount.
 */
export function orderReplyOf(reply: Fields, asked: OrderAsked): OrderReply {
  const no = asked.out_trade_no
  if (reply.out_trade_no !== no) throw fail('upstream', `the orderquery reply for ${no} is about another order`)
  if (asked.transaction_id !== undefined && reply.transaction_id && reply.transaction_id !== asked.transaction_id)
    throw fail('upstream', `the orderquery reply for ${no} is about another transaction_id`)
  const total =
    reply.total_fee === undefined || reply.total_fee === '' ? undefined : amountOf('total_fee', reply.total_fee)
  if (asked.total_fee !== undefined && total !== undefined && total !== asked.total_fee)
    throw fail('upstream', `WeChat reports total_fee ${total} for ${no}, the order was placed for ${asked.total_fee}`)
  return { out_trade_no: no, trade_state: reply.trade_state, total_fee: total, fields: reply }
}
