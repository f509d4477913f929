/**
 * The two ends of a payment in tests: the shop's backend (records what the service relays) and
 * WeChat's payment notification (signed v2 XML, reference §6.1), delivered to /v1/pay/notify.
 */
import { exports } from 'cloudflare:workers'
import { expect } from 'vitest'
import { type SignType, sign } from '../../src/wechat/sign'
import { encode } from '../../src/wechat/xml'
import { jsapiOrder, post } from './api'
import { route, SERVICE } from './net'
import { APPID, KEY, MCH_ID } from './wechat'

export const SUCCESS_XML =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

export type Relay = { headers: Headers; body: string }

/**
 * The shop's backend at shop.test: records every relay, answering `status` after `delayMs`.
 * The order's notify_url is https://shop.test/paid unless a test says otherwise.
 */
export function shop(status = 200, { delayMs = 0 }: { delayMs?: number } = {}): Relay[] {
  const received: Relay[] = []
  route('shop.test', async (request) => {
    received.push({ headers: request.headers, body: await request.text() })
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    return new Response(status === 200 ? 'ok' : 'down', { status })
  })
  return received
}

export type PlacedOrder = { out_trade_no: string; total_fee: number; openid: string }

/** Places a JSAPI order through /v1/pay/params. */
export async function placeOrder(overrides: Record<string, string | number> = {}): Promise<PlacedOrder> {
  const order = jsapiOrder(overrides)
  const { status } = await post('/v1/pay/params', order)
  expect(status).toBe(200)
  return order as PlacedOrder
}

/** A fresh transaction_id in WeChat's shape. */
export function transactionId(): string {
  return `4200${Date.now()}${Math.floor(Math.random() * 1e10)}`.slice(0, 28)
}

/** A payment notification as WeChat sends it (reference §6.1), signed with `key`. */
export async function notification(
  order: PlacedOrder,
  {
    type = 'HMAC-SHA256',
    withSignType = false,
    fields = {},
    key = KEY,
  }: { type?: SignType; withSignType?: boolean; fields?: Record<string, string>; key?: string } = {},
): Promise<Record<string, string>> {
  const body: Record<string, string> = {
    appid: APPID,
    bank_type: 'CFT',
    cash_fee: String(order.total_fee),
    fee_type: 'CNY',
    is_subscribe: 'Y',
    mch_id: MCH_ID,
    nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
    openid: order.openid,
    out_trade_no: order.out_trade_no,
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: '20261127131540',
    total_fee: String(order.total_fee),
    trade_type: 'JSAPI',
    transaction_id: transactionId(),
    ...(withSignType && { sign_type: type }),
    ...fields,
  }
  return { ...body, sign: await sign(body, key, type) }
}

/** Delivers a notification (fields or raw text) to /v1/pay/notify as WeChat does. */
export async function deliver(
  body: string | Record<string, string>,
): Promise<{ status: number; text: string; type: string | null }> {
  const response = await exports.default.fetch(
    new Request(`${SERVICE}/v1/pay/notify`, { method: 'POST', body: typeof body === 'string' ? body : encode(body) }),
  )
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') }
}
