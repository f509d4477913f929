/**
 * @module
 * `POST /refund` (JSON or form: `out_refund_no`, optional `status` SUCCESS | REFUNDCLOSE | CHANGE,
 * default SUCCESS) plays WeChat's refund back end: it completes a PROCESSING refund and sends the
 * encrypted refund notification (v3's JSON REFUND.* for a refund requested through v3) to the notify_url the refund request carried, retried on
 * SANDBOX_NOTIFY_SCHEDULE like payment notifications. `GET /orders/:out_trade_no` shows refunds.
 */
import { Hono } from 'hono'
import * as z from 'zod/mini'
import { loadConfig } from '../config'
import { jsonError, readInput, readSchedule, type SandboxEnv } from './http'
import { deliver, retry } from './notify'
import { type Attempt, loadByRefund, type Refund, recordRefundAttempt, saveOrder } from './orders'
import { refundNotification } from './refund-notify'
import { beijingDateTime, now } from './time'
import { notifyRefund, readSettings } from './v3/dev'

const CompleteInput = z.object({
  out_refund_no: z.string('out_refund_no is required').check(z.minLength(1), z.maxLength(64)),
  status: z.optional(z.enum(['SUCCESS', 'REFUNDCLOSE', 'CHANGE'], 'status must be SUCCESS, REFUNDCLOSE or CHANGE')),
})

/** The refund developer route. */
export const refunds = new Hono<SandboxEnv>()

refunds.post('/refund', async (c) => {
  const input = CompleteInput.safeParse(await readInput(c))
  if (!input.success) return jsonError(400, 'wxPayError.params', z.prettifyError(input.error))
  const { out_refund_no, status = 'SUCCESS' } = input.data
  const schedule = readSchedule(c.env)
  if (typeof schedule === 'string') return jsonError(500, 'wxPayError.config', schedule)
  const kv = c.var.kv
  const found = await loadByRefund(kv, { out_refund_no })
  if (!found)
    return jsonError(404, 'REFUNDNOTEXIST', `no sandbox refund ${out_refund_no}: call /secapi/pay/refund first`)
  const { order, refund } = found
  if (refund.status !== 'PROCESSING') {
    return jsonError(409, 'REFUND_NOT_PROCESSING', `refund ${out_refund_no} is already ${refund.status}`)
  }
  const v3 = refund.api === 'v3' && refund.notify_url ? await readSettings(c.env) : undefined
  if (typeof v3 === 'string') return jsonError(500, 'wxPayError.config', v3)
  refund.status = status
  refund.completed_at = now()
  // Completed before notifying: a service that queries the refund while handling the notice sees the result.
  await saveOrder(kv, order)
  if (!refund.notify_url) return c.json({ data: refundView(refund) })

  if (v3) {
    const record = (attempt: Attempt) => recordRefundAttempt(kv, out_refund_no, attempt)
    const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise)
    await notifyRefund({
      order,
      refund: { ...refund, notify_url: refund.notify_url },
      settings: v3,
      schedule,
      record,
      waitUntil,
    })
    const saved = await loadByRefund(kv, { out_refund_no })
    return c.json({ data: refundView(saved?.refund ?? refund) })
  }
  const xml = await refundNotification({ order, refund, key: loadConfig(c.env).apiKey })
  const first = await deliver(refund.notify_url, xml, 1)
  await recordRefundAttempt(kv, out_refund_no, first)
  if (!first.ok && schedule.length > 0) {
    c.executionCtx.waitUntil(
      retry({
        url: refund.notify_url,
        xml,
        schedule,
        record: (attempt) => recordRefundAttempt(kv, out_refund_no, attempt),
      }).catch((err: unknown) => {
        console.error(JSON.stringify({ event: 'sandbox_refund_notify_retry_failed', error: (err as Error)?.name }))
      }),
    )
  }
  const saved = await loadByRefund(kv, { out_refund_no })
  return c.json({ data: refundView(saved?.refund ?? refund) })
})

/** The JSON view of a refund: amounts in fen as numbers, times ISO and Beijing. */
export function refundView(refund: Refund): Record<string, unknown> {
  return {
    ...refund,
    total_fee: Number(refund.total_fee),
    refund_fee: Number(refund.refund_fee),
    created_at: new Date(refund.created_at).toISOString(),
    completed_at: refund.completed_at === undefined ? undefined : new Date(refund.completed_at).toISOString(),
    ...(refund.status === 'SUCCESS' && refund.completed_at !== undefined
      ? { success_time: beijingDateTime(refund.completed_at) }
      : {}),
  }
}
