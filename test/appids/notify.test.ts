/**
 * What WeChat says about an order must be for the order's appid: a notification (payment or refund)
 * for another of the merchant's appids is refused by the ledger, a reply for another appid than was
 * asked is refused by the client, and the ledger's own checks ask under the order's appid.
 */
import { describe, expect, it } from 'vitest'
import { post, sandboxPay } from '../support/api'
import { APPID, SECOND_APPID } from '../support/bindings'
import { ledgerRecord, runAlarm } from '../support/ledger'
import { PRIMARY, passThrough, route } from '../support/net'
import { deliver, notification, placeOrder, shop } from '../support/payments'
import { deliverRefundNotice, noticeFields, refundNotice } from '../support/refunds'
import { captureLogs } from '../support/secrets'
import { readRequest, successReply } from '../support/wechat'

const FAIL = /^<xml><return_code><!\[CDATA\[FAIL\]\]><\/return_code>/

/** The appid of every call that reaches WeChat (the sandbox), passed through. */
function appidsSent(): string[] {
  const sent: string[] = []
  route(PRIMARY, async (request) => {
    sent.push((await readRequest(request.clone())).appid ?? '')
    return passThrough(request)
  })
  return sent
}

describe('a notification for another of the merchant’s appids', () => {
  it.each([
    ['placed under the second appid, notified for the first', SECOND_APPID, APPID],
    ['placed under the first appid, notified for the second', APPID, SECOND_APPID],
  ])('%s → refused (appid_mismatch), nothing recorded or relayed', async (_, placed, notified) => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder({ appid: placed })
    const before = await ledgerRecord(order.out_trade_no)
    const reply = await deliver(await notification(order, { fields: { appid: notified } }))
    expect(reply.text).toMatch(FAIL)
    expect(reply.text).toContain("appid is not the order's")
    expect(relays).toHaveLength(0)
    expect(await ledgerRecord(order.out_trade_no)).toEqual(before)
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'notify_rejected', reason: 'appid_mismatch', appid: notified }),
    )
    // The same payment notified for the order's own appid is taken.
    expect(await deliver(await notification(order, { fields: { appid: placed } }))).toMatchObject({ status: 200 })
    expect(relays).toHaveLength(1)
  })

  it('a refund notification for the other appid → refused, nothing relayed', async () => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder({ appid: SECOND_APPID, total_fee: 100 })
    const { data } = await sandboxPay(order.out_trade_no)
    relays.length = 0
    const no = `${order.out_trade_no}-r`
    const refund = await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no: no, refund_fee: 30 })
    expect(refund.status).toBe(200)
    const sent = appidsSent()
    const fields = noticeFields({ ...order, transaction_id: data.transaction_id }, no, refund.body.data.refund_id)
    // refundNotice's outer XML names the first appid; the order is the second's.
    expect(await deliverRefundNotice(await refundNotice(fields))).toMatch(FAIL)
    expect(relays).toHaveLength(0)
    expect(sent).toEqual([])
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'refund_notify_rejected', reason: 'appid_mismatch', appid: APPID }),
    )
  })
})

describe('a reply for another appid than was asked', () => {
  it('is refused, and the ledger learns nothing from it', async () => {
    const relays = shop()
    const order = await placeOrder({ appid: SECOND_APPID })
    const before = await ledgerRecord(order.out_trade_no)
    // A signed orderquery reply saying paid, but for the first appid (one of the merchant's).
    route(PRIMARY, () =>
      successReply({
        appid: APPID,
        out_trade_no: order.out_trade_no,
        trade_state: 'SUCCESS',
        total_fee: String(order.total_fee),
        cash_fee: String(order.total_fee),
        transaction_id: '4200000000202612060000000001',
        time_end: '20261206120000',
        openid: order.openid,
        trade_type: 'JSAPI',
        bank_type: 'CFT',
      }),
    )
    const { status, body } = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no })
    expect(status).toBe(502)
    expect(body.error.message).toBe('the reply to /pay/orderquery is for another appid or mch_id')
    expect(await ledgerRecord(order.out_trade_no)).toEqual(before)
    expect(relays).toHaveLength(0)
  })
})

describe('the ledger’s own checks', () => {
  it('an unpaid order checks itself under its appid', async () => {
    const order = await placeOrder({ appid: SECOND_APPID })
    const sent = appidsSent()
    const logs = captureLogs()
    expect(await runAlarm(order.out_trade_no)).toBe(true)
    expect(sent).toEqual([SECOND_APPID])
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'self_check', out_trade_no: order.out_trade_no, found: 'NOTPAY' }),
    )
  })

  it('a refund in progress checks itself under the order’s appid', async () => {
    shop()
    const order = await placeOrder({ appid: SECOND_APPID, total_fee: 100 })
    await sandboxPay(order.out_trade_no)
    const no = `${order.out_trade_no}-r`
    expect(
      (await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no: no, refund_fee: 30 })).status,
    ).toBe(200)
    const sent = appidsSent()
    const logs = captureLogs()
    // The snapshot may be due first: run the alarm until the refund check has asked (a few tasks at most).
    for (let i = 0; i < 5 && sent.length === 0; i++) if (!(await runAlarm(order.out_trade_no))) break
    expect(sent).toEqual([SECOND_APPID])
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'refund_check', out_refund_no: no }))
  })
})
