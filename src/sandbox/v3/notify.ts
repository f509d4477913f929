/**
 * @module
 * v3 notifications as WeChat sends them (reference §5): POST JSON `{id, create_time, resource_type,
 * event_type, summary, resource}` whose `resource` is the payload encrypted AEAD_AES_256_GCM with the
 * APIv3 key (a fresh 12-character nonce, associated_data `transaction` or `refund`), signed like a
 * reply under the merchant's mode (public key ID or platform certificate serial). A delivery counts
 * when the shop answers 200 or 204 within 5 s (§5.3); others are retried on SANDBOX_NOTIFY_SCHEDULE.
 * Each attempt is signed afresh (a retry hours later must pass the receiver's 5-minute window); the
 * body, and so its `id`, stays the same.
 */

import { aesGcmEncrypt } from '../../wechat/v3/crypto'
import { randomString } from '../ids'
import { NOTIFY_TIMEOUT_MS } from '../notify'
import type { Attempt, Order, Refund } from '../orders'
import { RECEIVED_BY } from '../refund'
import { now, sleep } from '../time'
import { transaction } from './query'
import { STATUS } from './refund'
import { signatureHeaders } from './reply'
import type { Settings } from './settings'
import { nowSeconds, rfc3339 } from './time'

/** What a notification says, before encryption. */
export type Event = { event_type: string; summary: string; original_type: 'transaction' | 'refund'; payload: unknown }

/** TRANSACTION.SUCCESS for a paid order: the transaction object (§6.7). */
export function paymentEvent(order: Order): Event {
  return {
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    original_type: 'transaction',
    payload: transaction(order),
  }
}

const REFUND_EVENTS = {
  SUCCESS: ['REFUND.SUCCESS', '退款成功'],
  REFUNDCLOSE: ['REFUND.CLOSED', '退款关闭'],
  CHANGE: ['REFUND.ABNORMAL', '退款异常'],
} as const

/** REFUND.SUCCESS, .CLOSED or .ABNORMAL for a completed refund, with the §5.2 refund resource. */
export function refundEvent(order: Order, refund: Refund): Event {
  if (refund.status === 'PROCESSING') throw new Error('only completed refunds are notified')
  const [event_type, summary] = REFUND_EVENTS[refund.status]
  const refunded = Number(refund.refund_fee)
  const total = Number(refund.total_fee)
  const payload = {
    mchid: order.request.mch_id ?? '',
    out_trade_no: order.out_trade_no,
    transaction_id: order.payment?.transaction_id ?? '',
    out_refund_no: refund.out_refund_no,
    refund_id: refund.refund_id,
    refund_status: STATUS[refund.status],
    ...(refund.status === 'SUCCESS' && refund.completed_at !== undefined
      ? { success_time: rfc3339(refund.completed_at) }
      : {}),
    user_received_account: RECEIVED_BY,
    amount: { total, refund: refunded, payer_total: Number(order.payment?.cash_fee ?? total), payer_refund: refunded },
  }
  return { event_type, summary, original_type: 'refund', payload }
}

/** The notification body: the event with its payload encrypted. */
export async function notificationBody(event: Event, settings: Settings): Promise<string> {
  const nonce = randomString(12)
  const plaintext = JSON.stringify(event.payload)
  const ciphertext = await aesGcmEncrypt(settings.apiV3Key, nonce, event.original_type, plaintext)
  return JSON.stringify({
    id: crypto.randomUUID(),
    create_time: rfc3339(now()),
    resource_type: 'encrypt-resource',
    event_type: event.event_type,
    summary: event.summary,
    resource: {
      original_type: event.original_type,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      associated_data: event.original_type,
      nonce,
    },
  })
}

/** One delivery, signed now. Never throws: every outcome is an attempt. */
export async function deliver(options: { url: string; body: string; settings: Settings; n: number }): Promise<Attempt> {
  const { url, body, settings, n } = options
  const at = new Date(now()).toISOString()
  const serial = settings.mode === 'publicKey' ? settings.publicKeyId : settings.certificate.serial
  try {
    const headers = await signatureHeaders({ settings, serial, body, nowSeconds: nowSeconds() })
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', Accept: '*/*', 'User-Agent': 'Mozilla/4.0' },
      body,
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    })
    await response.body?.cancel()
    return { n, at, ok: response.status === 200 || response.status === 204, status: response.status }
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError'
    const error = timedOut ? `no answer within ${NOTIFY_TIMEOUT_MS} ms` : `network error (${String(err)})`
    return { n, at, ok: false, error: error.slice(0, 200) }
  }
}

/**
 * Delivers an event once now and, if that fails, again on `schedule` in `waitUntil` (which outlives
 * the response by about 30 s: only short schedules run to the end, as with v2). Every attempt is
 * passed to `record`; resolves after the first is recorded.
 */
export async function notify(options: {
  url: string
  event: Event
  settings: Settings
  schedule: readonly number[]
  record: (attempt: Attempt) => Promise<unknown>
  waitUntil: (promise: Promise<unknown>) => void
  failureEvent: string
}): Promise<void> {
  const { url, event, settings, schedule, record, waitUntil, failureEvent } = options
  const body = await notificationBody(event, settings)
  const first = await deliver({ url, body, settings, n: 1 })
  await record(first)
  if (first.ok || schedule.length === 0) return
  const retries = async () => {
    for (const [index, seconds] of schedule.entries()) {
      await sleep(seconds * 1000)
      const attempt = await deliver({ url, body, settings, n: index + 2 })
      await record(attempt)
      if (attempt.ok) return
    }
  }
  waitUntil(
    retries().catch((err: unknown) => {
      console.error(JSON.stringify({ event: failureEvent, error: (err as Error)?.name }))
    }),
  )
}
