/**
 * @module
 * Developer routes (JSON): `POST /pay` plays the payer — it marks an order paid and notifies the
 * shop as WeChat would, in the form of the API that placed the order (v2 XML, or v3 JSON) — and `GET /orders/:out_trade_no` shows what the sandbox holds.
 */
import { Hono } from 'hono'
import * as z from 'zod/mini'
import { loadConfig } from '../config'
import { jsonError, readInput, readSchedule, type SandboxEnv } from './http'
import { coinFlip, couponId, openid, transactionId } from './ids'
import { deliver, notification, retry } from './notify'
import { type Attempt, loadOrder, type Order, recordAttempt, saveOrder } from './orders'
import { refundView } from './refunds'
import { beijingTime, now } from './time'
import { notifyPayment, readSettings } from './v3/dev'

const PayInput = z.object({
  out_trade_no: z.string('out_trade_no is required').check(z.minLength(1), z.maxLength(32)),
  coupon_fee: z.optional(
    z.union([z.string().check(z.regex(/^[1-9][0-9]{0,9}$/)), z.int().check(z.positive())], {
      error: 'coupon_fee must be a whole number of fen above 0',
    }),
  ),
  sign_type_field: z.optional(z.enum(['omit', 'send'], 'sign_type_field must be omit or send')),
})

/** The developer routes. */
export const pay = new Hono<SandboxEnv>()

pay.post('/pay', async (c) => {
  const input = PayInput.safeParse(await readInput(c))
  if (!input.success) return jsonError(400, 'wxPayError.params', z.prettifyError(input.error))
  const { out_trade_no, coupon_fee, sign_type_field } = input.data
  const schedule = readSchedule(c.env)
  if (typeof schedule === 'string') return jsonError(500, 'wxPayError.config', schedule)
  const kv = c.var.kv
  const order = await loadOrder(kv, out_trade_no)
  if (!order) return jsonError(404, 'ORDERNOTEXIST', `no sandbox order ${out_trade_no}: call unifiedorder first`)
  if (order.trade_state === 'CLOSED') return jsonError(409, 'ORDERCLOSED', `order ${out_trade_no} is closed`)
  if (order.trade_state === 'SUCCESS') return jsonError(409, 'ORDERPAID', `order ${out_trade_no} is already paid`)
  const total = Number(order.request.total_fee)
  const coupon = coupon_fee === undefined ? 0 : Number(coupon_fee)
  if (coupon >= total) return jsonError(400, 'wxPayError.params', `coupon_fee must be less than total_fee (${total})`)

  const v3 = order.sign_type === 'RSA' ? await readSettings(c.env) : undefined
  if (typeof v3 === 'string') return jsonError(500, 'wxPayError.config', v3)

  const at = now()
  order.trade_state = 'SUCCESS'
  order.payment = {
    transaction_id: transactionId(at),
    time_end: beijingTime(at),
    bank_type: 'CFT',
    cash_fee: String(total - coupon),
    openid: order.request.openid ?? openid(),
    is_subscribe: 'N',
    ...(coupon > 0 ? { coupon_fee: String(coupon), coupon_id: couponId() } : {}),
  }
  // Paid before notifying: a shop that queries the order while handling the notification sees SUCCESS.
  await saveOrder(kv, order)

  if (v3) {
    const record = (attempt: Attempt) => recordAttempt(kv, out_trade_no, attempt)
    const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise)
    await notifyPayment({ order, settings: v3, schedule, record, waitUntil })
    return c.json({ data: view((await loadOrder(kv, out_trade_no)) ?? order) })
  }
  const withSignType = sign_type_field === undefined ? coinFlip() : sign_type_field === 'send'
  const xml = await notification({ order, key: loadConfig(c.env).apiKey, withSignType })
  const first = await deliver(order.request.notify_url ?? '', xml, 1)
  const recorded = await recordAttempt(kv, out_trade_no, first)
  if (!first.ok && schedule.length > 0) {
    c.executionCtx.waitUntil(
      retry({
        url: recorded.request.notify_url ?? '',
        xml,
        schedule,
        record: (attempt) => recordAttempt(kv, out_trade_no, attempt),
      }).catch((err: unknown) => {
        console.error(JSON.stringify({ event: 'sandbox_notify_retry_failed', error: (err as Error)?.name }))
      }),
    )
  }
  return c.json({ data: view(recorded) })
})

pay.get('/orders/:out_trade_no', async (c) => {
  const outTradeNo = c.req.param('out_trade_no')
  const order = outTradeNo.length <= 32 ? await loadOrder(c.var.kv, outTradeNo) : undefined
  if (!order) return jsonError(404, 'ORDERNOTEXIST', `no sandbox order ${outTradeNo.slice(0, 32)}`)
  return c.json({ data: view(order) })
})

/** The JSON view of an order: its request fields, state, payment and notification; amounts in fen as numbers. */
function view(order: Order): Record<string, unknown> {
  const { request, payment } = order
  const fen = (value: string | undefined) => (value === undefined ? undefined : Number(value))
  return {
    ...request,
    out_trade_no: order.out_trade_no,
    total_fee: fen(request.total_fee),
    sign_type: order.sign_type,
    prepay_id: order.prepay.id,
    trade_state: order.trade_state,
    created_at: new Date(order.created_at).toISOString(),
    closed_at: order.closed_at === undefined ? undefined : new Date(order.closed_at).toISOString(),
    ...(payment && {
      ...payment,
      cash_fee: fen(payment.cash_fee),
      coupon_fee: fen(payment.coupon_fee),
    }),
    notification: order.notification,
    ...(order.refunds && { refunds: order.refunds.map(refundView) }),
  }
}
