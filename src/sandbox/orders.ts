/**
 * @module
 * The sandbox's orders in KV (binding `SANDBOX`, never the service's `ORDERS`):
 *
 * | key                              | value                                                    |
 * |----------------------------------|----------------------------------------------------------|
 * | `sandbox:order:<out_trade_no>`   | {@link Order} (JSON, `v: 1`): request, state, payment, notification attempts |
 * | `sandbox:txn:<transaction_id>`   | the out_trade_no paid by that transaction                 |
 * | `sandbox:merchant:received`      | the stand-in merchant's last 20 deliveries (see merchant.ts) |
 *
 * Records are parsed on every read; one that does not parse is an internal error, never guessed at.
 */
import * as z from 'zod/mini'
import { SIGN_TYPES } from '../wechat/sign'

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

const Prepay = z.object({
  id: z.string(),
  at: z.number(),
  code_url: z.optional(z.string()),
  mweb_url: z.optional(z.string()),
})

const Order = z.object({
  v: z.literal(1),
  out_trade_no: z.string(),
  /** The first unifiedorder's fields but sign, nonce_str and sign_type, verbatim. */
  request: z.record(z.string(), z.string()),
  sign_type: z.enum(SIGN_TYPES),
  trade_state: z.enum(['NOTPAY', 'SUCCESS', 'CLOSED']),
  created_at: z.number(),
  closed_at: z.optional(z.number()),
  prepay: Prepay,
  payment: z.optional(Payment),
  notification: z.object({ delivered: z.boolean(), attempts: z.array(Attempt) }),
})

export type Attempt = z.infer<typeof Attempt>
export type Payment = z.infer<typeof Payment>
export type Prepay = z.infer<typeof Prepay>
export type Order = z.infer<typeof Order>

const orderKey = (outTradeNo: string) => `sandbox:order:${outTradeNo}`
const txnKey = (transactionId: string) => `sandbox:txn:${transactionId}`

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

/** Writes an order, and the transaction index once it is paid. */
export async function saveOrder(kv: KVNamespace, order: Order): Promise<void> {
  if (order.payment) await kv.put(txnKey(order.payment.transaction_id), order.out_trade_no)
  await kv.put(orderKey(order.out_trade_no), JSON.stringify(Order.parse(order)))
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
