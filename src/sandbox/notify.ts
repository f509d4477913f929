/**
 * @module
 * The payment notification, sent the way WeChat sends it (reference §6): POST text/xml to the
 * order's notify_url with the §6.1 fields, signed with the order's sign type. A delivery counts
 * only if the shop answers HTTP 2xx with XML whose return_code is SUCCESS (§6.2); anything else,
 * including a network error or no answer within 5 s, is a failed attempt, retried on a schedule.
 */
import { type SignType, sign } from '../wechat/sign'
import { decode, encode } from '../wechat/xml'
import { nonce } from './ids'
import type { Attempt, Order } from './orders'
import { paidFields } from './query'
import { now, sleep } from './time'

/** How long the shop has to answer one delivery. */
export const NOTIFY_TIMEOUT_MS = 5000

/** WeChat's documented schedule, in seconds between attempts: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h. */
export const WECHAT_SCHEDULE = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600]

/**
 * Reads SANDBOX_NOTIFY_SCHEDULE: comma-separated seconds between retries, fractions allowed.
 * @throws {Error} naming the variable when it is not such a list.
 */
export function parseSchedule(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return WECHAT_SCHEDULE
  const parts = value.split(',').map((part) => part.trim())
  if (parts.length > 30 || !parts.every((part) => /^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(part))) {
    throw new Error('SANDBOX_NOTIFY_SCHEDULE must be up to 30 comma-separated numbers of seconds, e.g. 15,15,30')
  }
  return parts.map(Number)
}

/**
 * The notification XML for a paid order. `withSignType` decides whether a `sign_type` element is
 * sent: WeChat does both for HMAC orders (§2.3), so receivers must cope with either.
 */
export async function notification(options: { order: Order; key: string; withSignType: boolean }): Promise<string> {
  const { order, key, withSignType } = options
  const { request, payment } = order
  if (!payment) throw new Error('only paid orders are notified')
  if (order.sign_type === 'RSA') throw new Error('v3 orders are notified in JSON (v3/notify.ts)')
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid: request.appid ?? '',
    mch_id: request.mch_id ?? '',
    nonce_str: nonce(),
  }
  if (request.device_info) fields.device_info = request.device_info
  Object.assign(fields, {
    openid: payment.openid,
    is_subscribe: payment.is_subscribe,
    trade_type: request.trade_type ?? '',
    bank_type: payment.bank_type,
    total_fee: request.total_fee ?? '',
    fee_type: 'CNY',
    out_trade_no: order.out_trade_no,
  })
  if (request.attach) fields.attach = request.attach
  Object.assign(fields, paidFields(order))
  const signType: SignType = order.sign_type
  if (withSignType) fields.sign_type = signType
  fields.sign = await sign(fields, key, signType)
  return encode(fields)
}

/** One delivery to the shop. Never throws: every outcome is an attempt. */
export async function deliver(url: string, xml: string, n: number): Promise<Attempt> {
  const at = new Date(now()).toISOString()
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: xml,
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    })
    const text = await response.text()
    const returnCode = returnCodeOf(text)
    const ok = response.ok && returnCode === 'SUCCESS'
    return { n, at, ok, status: response.status, ...(returnCode === undefined ? {} : { return_code: returnCode }) }
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError'
    const error = timedOut ? `no answer within ${NOTIFY_TIMEOUT_MS} ms` : `network error (${String(err)})`
    return { n, at, ok: false, error: error.slice(0, 200) }
  }
}

function returnCodeOf(text: string): string | undefined {
  try {
    return decode(text).return_code
  } catch {
    return undefined
  }
}

/**
 * Retries after a failed first attempt, recording each attempt, until one succeeds or the schedule
 * ends. It runs in `waitUntil`, which outlives the response by only about 30 s on Workers: in
 * practice only short schedules (dev, tests) complete; WeChat's own hours-long one cannot.
 * Payments and refunds alike: `record` stores an attempt wherever its notification lives.
 */
export async function retry(options: {
  url: string
  xml: string
  schedule: readonly number[]
  record: (attempt: Attempt) => Promise<unknown>
}): Promise<void> {
  const { url, xml, schedule, record } = options
  for (const [index, seconds] of schedule.entries()) {
    await sleep(seconds * 1000)
    const attempt = await deliver(url, xml, index + 2)
    await record(attempt)
    if (attempt.ok) return
  }
}
