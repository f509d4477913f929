/**
 * @module
 * The v3 side of the developer routes: `POST /sandbox/pay` and `POST /sandbox/refund` (pay.ts,
 * refunds.ts) notify a v3 order or refund in v3's form, on the same schedule as v2.
 */
import type { Attempt, Order, Refund } from '../orders'
import { notify, paymentEvent, refundEvent } from './notify'
import { loadSettings, type Settings, SettingsError } from './settings'

/** The settings, or the message naming what is wrong with them. */
export async function readSettings(env: Env): Promise<Settings | string> {
  try {
    return await loadSettings(env)
  } catch (err) {
    if (err instanceof SettingsError) return err.message
    throw err
  }
}

type Delivery = {
  settings: Settings
  schedule: readonly number[]
  record: (attempt: Attempt) => Promise<unknown>
  waitUntil: (promise: Promise<unknown>) => void
}

/** Sends TRANSACTION.SUCCESS for a paid v3 order to its notify_url. */
export function notifyPayment(options: Delivery & { order: Order }): Promise<void> {
  const { order, ...delivery } = options
  const url = order.request.notify_url ?? ''
  return notify({ ...delivery, url, event: paymentEvent(order), failureEvent: 'sandbox_notify_retry_failed' })
}

/** Sends REFUND.* for a completed v3 refund to the notify_url its request carried. */
export function notifyRefund(
  options: Delivery & { order: Order; refund: Refund & { notify_url: string } },
): Promise<void> {
  const { order, refund, ...delivery } = options
  const event = refundEvent(order, refund)
  return notify({ ...delivery, url: refund.notify_url, event, failureEvent: 'sandbox_refund_notify_retry_failed' })
}
