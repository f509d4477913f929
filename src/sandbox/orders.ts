/**
 * @module
 * The sandbox's orders in KV (binding `SANDBOX`, never the service's `ORDERS`):
 *
 * | key                              | value                                                    |
 * |----------------------------------|----------------------------------------------------------|
 * | `sandbox:order:<out_trade_no>`   | {@link Order} (JSON, `v: 1`): request, state, payment, notification attempts |
 * | `sandbox:txn:<transaction_id>`   | the out_trade_no paid by that transaction                 |
 * | `sandbox:refund:<out_refund_no>` | the out_trade_no the refund belongs to (out_refund_no is unique per merchant) |
 * | `sandbox:refund-id:<refund_id>`  | the out_trade_no of the refund with that refund_id        |
 * | `sandbox:day:<yyyyMMdd>:<out_trade_no>` | `''`: the order was paid, or had a refund accepted, that Beijing day (the bill's index, `list({ prefix })`) |
 * | `sandbox:merchant:received`      | the stand-in merchant's last 20 deliveries (see merchant.ts) |
 *
 * Records are parsed on every read; one that does not parse is an internal error, never guessed at.
 */
import * as z from 'zod/mini'
import { SIGN_TYPES } from '../wechat/sign'
import { beijingTime } from './time'

/** One delivery of the payment notification, as the notifier saw it. */
const Attempt = z.object({
  n: z.int(),
  at: z.string(),
  ok: z.boolean(),
  status: z.optional(z.int()),
  return_code: z.optional(z.string()),
  error: z.optional(z.string()),
})

const Payment = z.object({
  transaction_id: z.string(),
  time_end: z.string(),
  bank_type: z.string(),
  cash_fee: z.string(),
  openid: z.string(),
  is_subscribe: z.string(),
  coupon_fee: z.optional(z.string()),
  coupon_id: z.optional(z.string()),
})

const Notification = z.object({ delivered: z.boolean(), attempts: z.array(Attempt) })

/** One refund of a paid order; amounts are decimal fen as the request carried them. */
const Refund = z.object({
  out_refund_no: z.string(),
  refund_id: z.string(),
  total_fee: z.string(),
  refund_fee: z.string(),
  refund_desc: z.optional(z.string()),
  notify_url: z.optional(z.string()),
  /** Requested through API v3 (its notification is v3's); absent: v2. */
  api: z.optional(z.literal('v3')),
  status: z.enum(['PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE']),
  created_at: z.number(),
  completed_at: z.optional(z.number()),
  notification: Notification,
})

const Prepay = z.object({
  id: z.string(),
  at: z.number(),
  code_url: z.optional(z.string()),
  mweb_url: z.optional(z.string()),
})

const Order = z.object({
  v: z.literal(1),
  out_trade_no: z.string(),
  /** The first unifiedorder's fields but sign, nonce_str and sign_type, verbatim (v3 orders: v3/transactions.ts). */
  request: z.record(z.string(), z.string()),
  /** How the order's messages are signed: a v2 sign type, or `RSA` for an order placed through API v3. */
  sign_type: z.enum([...SIGN_TYPES, 'RSA']),
  trade_state: z.enum(['NOTPAY', 'SUCCESS', 'CLOSED']),
  created_at: z.number(),
  closed_at: z.optional(z.number()),
  prepay: Prepay,
  payment: z.optional(Payment),
  notification: Notification,
  /** Refunds in the order they were accepted (absent until the first). */
  refunds: z.optional(z.array(Refund)),
})

export type Attempt = z.infer<typeof Attempt>
export type Payment = z.infer<typeof Payment>
export type Prepay = z.infer<typeof Prepay>
export type Refund = z.infer<typeof Refund>
export type Order = z.infer<typeof Order>

const orderKey = (outTradeNo: string) => `sandbox:order:${outTradeNo}`
const txnKey = (transactionId: string) => `sandbox:txn:${transactionId}`
const refundKey = (outRefundNo: string) => `sandbox:refund:${outRefundNo}`
const refundIdKey = (refundId: string) => `sandbox:refund-id:${refundId}`
/** The prefix of one Beijing day's index keys (`yyyyMMdd`). */
export const dayPrefix = (day: string) => `sandbox:day:${day}:`

/** Reads an order; `undefined` when there is none. */
export async function loadOrder(kv: KVNamespace, outTradeNo: string): Promise<Order | undefined> {
  const value = await kv.get(orderKey(outTradeNo), 'json')
  if (value === null) return undefined
  const parsed = Order.safeParse(value)
  if (!parsed.success) throw new Error(`sandbox order record ${outTradeNo} does not match its schema`)
  return parsed.data
}

/** Reads the order a transaction_id belongs to. */
export async function loadByTransaction(kv: KVNamespace, transactionId: string): Promise<Order | undefined> {
  const outTradeNo = await kv.get(txnKey(transactionId))
  return outTradeNo === null ? undefined : loadOrder(kv, outTradeNo)
}

/** Reads the order a refund belongs to, by out_refund_no or refund_id, with that refund. */
export async function loadByRefund(
  kv: KVNamespace,
  by: { out_refund_no: string } | { refund_id: string },
): Promise<{ order: Order; refund: Refund } | undefined> {
  const key = 'refund_id' in by ? refundIdKey(by.refund_id) : refundKey(by.out_refund_no)
  const outTradeNo = await kv.get(key)
  const order = outTradeNo === null ? undefined : await loadOrder(kv, outTradeNo)
  const refund = order?.refunds?.find((r) =>
    'refund_id' in by ? r.refund_id === by.refund_id : r.out_refund_no === by.out_refund_no,
  )
  return order && refund ? { order, refund } : undefined
}

/** Writes an order, and the transaction and day indexes once it is paid. */
export async function saveOrder(kv: KVNamespace, order: Order): Promise<void> {
  if (order.payment) {
    await kv.put(txnKey(order.payment.transaction_id), order.out_trade_no)
    await kv.put(`${dayPrefix(order.payment.time_end.slice(0, 8))}${order.out_trade_no}`, '')
  }
  await kv.put(orderKey(order.out_trade_no), JSON.stringify(Order.parse(order)))
}

/** Writes a new refund's indexes: its out_refund_no, its refund_id and the day it was accepted. */
export async function indexRefund(kv: KVNamespace, outTradeNo: string, refund: Refund): Promise<void> {
  await Promise.all([
    kv.put(refundKey(refund.out_refund_no), outTradeNo),
    kv.put(refundIdKey(refund.refund_id), outTradeNo),
    kv.put(`${dayPrefix(beijingTime(refund.created_at).slice(0, 8))}${outTradeNo}`, ''),
  ])
}

/** Every out_trade_no in one Beijing day's index. */
export async function ordersOfDay(kv: KVNamespace, day: string): Promise<string[]> {
  const prefix = dayPrefix(day)
  const names: string[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) })
    for (const key of page.keys) names.push(key.name.slice(prefix.length))
    if (page.list_complete) return names
    cursor = page.cursor
  }
}

/**
 * Adds one notification attempt to the stored order (read, merge, write), so that retries
 * running after the response never overwrite each other's attempts. An attempt already
 * recorded under the same number is not added twice.
 */
export async function recordAttempt(kv: KVNamespace, outTradeNo: string, attempt: Attempt): Promise<Order> {
  const order = await loadOrder(kv, outTradeNo)
  if (!order) throw new Error(`sandbox order ${outTradeNo} vanished while notifying`)
  const { attempts } = order.notification
  if (!attempts.some((a) => a.n === attempt.n)) attempts.push(attempt)
  attempts.sort((a, b) => a.n - b.n)
  order.notification.delivered = attempts.some((a) => a.ok)
  await saveOrder(kv, order)
  return order
}

/** Adds one refund-notification attempt to the stored refund, as {@link recordAttempt} does for payments. */
export async function recordRefundAttempt(kv: KVNamespace, outRefundNo: string, attempt: Attempt): Promise<void> {
  const found = await loadByRefund(kv, { out_refund_no: outRefundNo })
  if (!found) throw new Error(`sandbox refund ${outRefundNo} vanished while notifying`)
  const { attempts } = found.refund.notification
  if (!attempts.some((a) => a.n === attempt.n)) attempts.push(attempt)
  attempts.sort((a, b) => a.n - b.n)
  found.refund.notification.delivered = attempts.some((a) => a.ok)
  await saveOrder(kv, found.order)
}
