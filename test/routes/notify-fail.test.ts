/**
 * A verified notification with result_code FAIL is understood: logged and acknowledged SUCCESS, so
 * WeChat does not resend it for 24 hours. Nothing is relayed and no state moves. An unverified one is
 * still refused.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { encryptRefundNotice } from '../../src/sandbox/refund-notify'
import { encode } from '../../src/wechat/xml'
import { orderNo, post, sandboxPay } from '../support/api'
import { ledgerRecord } from '../support/ledger'
import { type Handler, PRIMARY, passThrough, route, SERVICE } from '../support/net'
import { deliver, notification, placeOrder, SUCCESS_XML, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { APPID, KEY, MCH_ID } from '../support/wechat'

/** Counts the requests that reach WeChat (the sandbox), passing them through. */
function countUpstream(): string[] {
  const calls: string[] = []
  const counting: Handler = (request) => {
    calls.push(new URL(request.url).pathname)
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return calls
}

const FAILED = { result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: '余额不足' }

describe('payment notification with result_code FAIL', () => {
  it('verified → logged, answered SUCCESS; nothing relayed, nothing asked, the record unchanged', async () => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder()
    const before = await ledgerRecord(order.out_trade_no)
    const upstream = countUpstream()
    const reply = await deliver(await notification(order, { fields: FAILED }))
    expect(reply).toEqual({ status: 200, text: SUCCESS_XML, type: 'text/xml; charset=utf-8' })
    expect(relays).toHaveLength(0)
    expect(upstream).toEqual([])
    expect(await ledgerRecord(order.out_trade_no)).toEqual(before)
    expect(logs()).toEqual([
      {
        event: 'notify_result_fail',
        kind: 'payment',
        out_trade_no: order.out_trade_no,
        err_code: 'NOTENOUGH',
        err_code_des: '余额不足',
      },
    ])
    // The order can still be paid, and that payment is relayed once.
    const paid = await deliver(await notification(order))
    expect(paid.text).toBe(SUCCESS_XML)
    expect(relays).toHaveLength(1)
    expect((await ledgerRecord(order.out_trade_no))?.trade_state).toBe('SUCCESS')
  })

  it.each([
    ['a forged signature', 'bad_signature', async (n: Record<string, string>) => ({ ...n, sign: 'A'.repeat(64) })],
    ['another merchant', 'wrong_merchant', async (n: Record<string, string>) => n],
  ])('%s is still refused (%s)', async (_case, reason, tamper) => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder()
    const fields = reason === 'wrong_merchant' ? { ...FAILED, mch_id: '1900000109' } : FAILED
    const reply = await deliver(await tamper(await notification(order, { fields })))
    expect(reply.text).toContain('FAIL')
    expect(relays).toHaveLength(0)
    expect(logs()).toEqual([expect.objectContaining({ event: 'notify_rejected', reason })])
  })
})

describe('refund notification with result_code FAIL', () => {
  /** A paid order with one refund of 30 fen in progress. */
  async function refunding() {
    shop()
    const order = await placeOrder({ total_fee: 100 })
    const { data } = await sandboxPay(order.out_trade_no)
    const out_refund_no = orderNo('R')
    const asked = await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 30 })
    expect(asked.status).toBe(200)
    const fields = {
      out_refund_no,
      out_trade_no: order.out_trade_no,
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_fee: '30',
      refund_id: asked.body.data.refund_id,
      refund_recv_accout: '支付用户零钱',
      refund_request_source: 'API',
      refund_status: 'SUCCESS',
      settlement_refund_fee: '30',
      settlement_total_fee: '100',
      success_time: '2026-11-29 12:00:00',
      total_fee: '100',
      transaction_id: data.transaction_id,
    }
    return { out_trade_no: order.out_trade_no, out_refund_no, fields }
  }

  async function deliverRefund(outer: Record<string, string>): Promise<string> {
    const response = await exports.default.fetch(
      new Request(`${SERVICE}/v1/pay/notify/refund`, { method: 'POST', body: encode(outer) }),
    )
    expect(response.status).toBe(200)
    return response.text()
  }

  const outer = async (fields: Record<string, string>, key = KEY) => ({
    return_code: 'SUCCESS',
    result_code: 'FAIL',
    err_code: 'SYSTEMERROR',
    appid: APPID,
    mch_id: MCH_ID,
    nonce_str: 'n0nce',
    req_info: await encryptRefundNotice(fields, key),
  })

  it('req_info decrypts → logged, answered SUCCESS; not confirmed with WeChat, nothing relayed, nothing recorded', async () => {
    const logs = captureLogs()
    const refund = await refunding()
    const relays = shop()
    const before = await ledgerRecord(refund.out_trade_no)
    const upstream = countUpstream()
    expect(await deliverRefund(await outer(refund.fields))).toBe(SUCCESS_XML)
    expect(upstream).toEqual([])
    expect(relays).toHaveLength(0)
    expect(await ledgerRecord(refund.out_trade_no)).toEqual(before)
    expect(before?.refunds?.[0]?.refund_status).toBe('PROCESSING')
    expect(logs()).toContainEqual({
      event: 'notify_result_fail',
      kind: 'refund',
      out_trade_no: refund.out_trade_no,
      out_refund_no: refund.out_refund_no,
      err_code: 'SYSTEMERROR',
    })
  })

  it('req_info under another key is still refused (undecryptable)', async () => {
    const logs = captureLogs()
    const refund = await refunding()
    const reply = await deliverRefund(await outer(refund.fields, 'k'.repeat(32)))
    expect(reply).toContain('FAIL')
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'refund_notify_rejected', reason: 'undecryptable' }))
  })
})
