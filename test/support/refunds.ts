/** Refunds in tests: a paid order, the sandbox completing a refund, and WeChat's refund notification. */
import { exports } from 'cloudflare:workers'
import { expect } from 'vitest'
import { encryptRefundNotice } from '../../src/sandbox/refund-notify'
import { encode } from '../../src/wechat/xml'
import { sandboxPay } from './api'
import { type Handler, PRIMARY, passThrough, route, SERVICE } from './net'
import { placeOrder, type Relay, shop } from './payments'
import { REFUND_PATH, V3 } from './version'
import { APPID, KEY, MCH_ID, readRequest } from './wechat'

/** A paid order of `total` fen whose payment the shop has received; `relays` collects what follows. */
export async function paidOrder(
  total = 100,
): Promise<{ out_trade_no: string; relays: Relay[]; transaction_id: string }> {
  const relays = shop()
  const order = await placeOrder({ total_fee: total })
  const { data } = await sandboxPay(order.out_trade_no)
  expect(relays).toHaveLength(1)
  relays.length = 0
  return { out_trade_no: order.out_trade_no, relays, transaction_id: data.transaction_id }
}

/**
 * Counts the refund requests that reach WeChat (the sandbox), passing them through; each as v2
 * fields (a v3 request's JSON read into the same names: amount.total is total_fee…).
 */
export function countRefundCalls(): Record<string, string>[] {
  const calls: Record<string, string>[] = []
  const counting: Handler = async (request) => {
    if (new URL(request.url).pathname === REFUND_PATH) calls.push(await refundFields(request.clone()))
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return calls
}

async function refundFields(request: Request): Promise<Record<string, string>> {
  if (!V3) return readRequest(request)
  const { amount, out_trade_no, out_refund_no, notify_url } = await request.json<{
    amount: { total: number; refund: number }
    out_trade_no: string
    out_refund_no: string
    notify_url: string
  }>()
  return { out_trade_no, out_refund_no, notify_url, total_fee: String(amount.total), refund_fee: String(amount.refund) }
}

/** The sandbox completes a refund, which notifies the service as WeChat does. */
export async function completeRefund(outRefundNo: string, status = 'SUCCESS') {
  const response = await exports.default.fetch(
    new Request(`${SERVICE}/sandbox/refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ out_refund_no: outRefundNo, status }),
    }),
  )
  expect(response.status).toBe(200)
  return response.json<{ data: Record<string, unknown> }>()
}

/** A refund notification as WeChat sends it: unsigned outer XML around req_info encrypted with `key`. */
export async function refundNotice(
  fields: Record<string, string>,
  { key = KEY, mchId = MCH_ID } = {},
): Promise<string> {
  return encode({
    return_code: 'SUCCESS',
    appid: APPID,
    mch_id: mchId,
    nonce_str: 'n0nce',
    req_info: await encryptRefundNotice(fields, key),
  })
}

export function noticeFields(
  order: { out_trade_no: string; transaction_id: string },
  outRefundNo: string,
  refundId: string,
) {
  return {
    out_refund_no: outRefundNo,
    out_trade_no: order.out_trade_no,
    refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
    refund_fee: '30',
    refund_id: refundId,
    refund_recv_accout: '支付用户零钱',
    refund_request_source: 'API',
    refund_status: 'SUCCESS',
    settlement_refund_fee: '30',
    settlement_total_fee: '100',
    success_time: '2026-11-29 12:00:00',
    total_fee: '100',
    transaction_id: order.transaction_id,
  }
}

export async function deliverRefundNotice(xml: string): Promise<string> {
  const response = await exports.default.fetch(
    new Request(`${SERVICE}/v1/pay/notify/refund`, { method: 'POST', body: xml }),
  )
  expect(response.status).toBe(200)
  return response.text()
}
