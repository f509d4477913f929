import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { orderNo, post, sandboxPay } from '../support/api'
import { ledgerRecord } from '../support/ledger'
import { PRIMARY, passThrough, route } from '../support/net'
import { deliver, notification, placeOrder, type Relay, SUCCESS_XML, shop } from '../support/payments'
import { verifyRelay } from '../support/relay'
import { captureLogs } from '../support/secrets'
import { readRequest, successReply } from '../support/wechat'

/** The structured lines the service logs while a test runs. */
function captureWarnings(): () => Record<string, unknown>[] {
  const logs = captureLogs()
  return () => logs() as Record<string, unknown>[]
}

const record = ledgerRecord

describe('a genuine notification is acknowledged only after the shop has it', () => {
  it.each([
    ['MD5 with sign_type', { type: 'MD5' as const, withSignType: true }],
    ['HMAC-SHA256 without sign_type', { type: 'HMAC-SHA256' as const, withSignType: false }],
    ['HMAC-SHA256 with sign_type', { type: 'HMAC-SHA256' as const, withSignType: true }],
  ])('%s → SUCCESS and exactly one signed relay', async (_case, options) => {
    const received = shop()
    const order = await placeOrder({ attach: 'gift wrap' })
    const message = await notification(order, {
      ...options,
      fields: {
        attach: 'gift wrap',
        coupon_fee: '1',
        coupon_count: '1',
        coupon_id_0: '9',
        coupon_type_0: 'CASH',
        coupon_fee_0: '1',
        cash_fee: String(order.total_fee - 1),
      },
    })
    const reply = await deliver(message)
    expect(reply).toEqual({ status: 200, text: SUCCESS_XML, type: 'text/xml; charset=utf-8' })
    expect(received).toHaveLength(1)
    const relayed = received[0] as Relay
    expect(relayed.headers.get('content-type')).toBe('application/json')
    expect(await verifyRelay(relayed.body, relayed.headers.get('wxpay-signature'), env.NOTIFY_SECRET as string)).toBe(
      true,
    )
    expect(JSON.parse(relayed.body)).toEqual({
      type: 'payment',
      data: {
        out_trade_no: order.out_trade_no,
        transaction_id: message.transaction_id,
        trade_state: 'SUCCESS',
        total_fee: order.total_fee,
        cash_fee: order.total_fee - 1,
        fee_type: 'CNY',
        time_end: '20261127131540',
        openid: order.openid,
        trade_type: 'JSAPI',
        bank_type: 'CFT',
        attach: 'gift wrap',
        coupons: [{ id: '9', type: 'CASH', fee: 1 }],
      },
    })
    expect(await record(order.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      transaction_id: message.transaction_id,
      cash_fee: order.total_fee - 1,
      relayed_at: expect.any(String),
    })
  })

  it('acknowledges a duplicate of a delivered notification without relaying again', async () => {
    const received = shop()
    const order = await placeOrder()
    const message = await notification(order)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(received).toHaveLength(1)
  })

  it('answers FAIL while the shop is down, then SUCCESS with one relay once it is up', async () => {
    const logs = captureWarnings()
    const down = shop(503)
    const order = await placeOrder()
    const message = await notification(order)
    const first = await deliver(message)
    expect(first.status).toBe(200)
    expect(first.text).toContain('<return_code><![CDATA[FAIL]]></return_code>')
    expect(down).toHaveLength(1)
    const afterFailure = await record(order.out_trade_no)
    expect(afterFailure).toMatchObject({ trade_state: 'SUCCESS', transaction_id: message.transaction_id })
    expect(afterFailure).not.toHaveProperty('relayed_at')

    const up = shop(200)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(up).toHaveLength(1)
    expect(await record(order.out_trade_no)).toHaveProperty('relayed_at')
    expect(logs()).toEqual([
      {
        event: 'payment_recorded',
        out_trade_no: order.out_trade_no,
        source: 'notification',
        transaction_id: message.transaction_id,
      },
      {
        event: 'notify_rejected',
        reason: 'relay_failed',
        out_trade_no: order.out_trade_no,
        relay: 'payment',
        error: 'the shop answered HTTP 503',
      },
    ])
  })
})

describe('anything else is refused with FAIL, changes nothing and relays nothing', () => {
  const refusals: [
    string,
    string,
    (order: Awaited<ReturnType<typeof placeOrder>>) => Promise<string | Record<string, string>>,
  ][] = [
    [
      'a forged signature',
      'bad_signature',
      async (order) => ({ ...(await notification(order)), sign: 'A'.repeat(64) }),
    ],
    ['a signature made with another key', 'bad_signature', (order) => notification(order, { key: 'k'.repeat(32) })],
    [
      'a field changed after signing',
      'bad_signature',
      async (order) => ({ ...(await notification(order)), total_fee: '1' }),
    ],
    [
      'a field added after signing',
      'bad_signature',
      async (order) => ({ ...(await notification(order)), attach: 'x' }),
    ],
    [
      'an amount that differs from the order',
      'amount_mismatch',
      (order) => notification(order, { fields: { total_fee: '1', cash_fee: '1' } }),
    ],
    ['another mch_id', 'wrong_merchant', (order) => notification(order, { fields: { mch_id: '1900000109' } })],
    ['another appid', 'wrong_merchant', (order) => notification(order, { fields: { appid: 'wx0000000000000000' } })],
    ['return_code FAIL', 'not_success', (order) => notification(order, { fields: { return_code: 'FAIL' } })],
    ['an unknown sign_type', 'bad_signature', (order) => notification(order, { fields: { sign_type: 'SHA1' } })],
    ['a non-integer amount', 'malformed', (order) => notification(order, { fields: { total_fee: '1.01' } })],
    ['garbage', 'unparsable', async () => 'this is not xml at all'],
    ['an empty body', 'unparsable', async () => ''],
    [
      'a DOCTYPE / external entity payload',
      'unparsable',
      async (order) =>
        `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><out_trade_no>${order.out_trade_no}</out_trade_no><attach>&xxe;</attach></xml>`,
    ],
    ['nested elements', 'unparsable', async () => '<xml><a><b>1</b></a></xml>'],
  ]
  it.each(refusals)('%s (logged as %s)', async (_case, reason, build) => {
    const logs = captureWarnings()
    const received = shop()
    const order = await placeOrder()
    const before = await record(order.out_trade_no)
    const reply = await deliver(await build(order))
    expect(reply.status).toBe(200)
    expect(reply.text).toMatch(
      /^<xml><return_code><!\[CDATA\[FAIL\]\]><\/return_code><return_msg><!\[CDATA\[[^\]<]+\]\]><\/return_msg><\/xml>$/,
    )
    expect(received).toHaveLength(0)
    expect(await record(order.out_trade_no)).toEqual(before)
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected', reason }))
  })

  it('an oversized body → 413 with the FAIL XML', async () => {
    const logs = captureWarnings()
    const reply = await deliver(`<xml><attach>${'x'.repeat(20_000)}</attach></xml>`)
    expect(reply.status).toBe(413)
    expect(reply.text).toContain('FAIL')
    expect(logs()).toEqual([{ event: 'notify_rejected', reason: 'too_large' }])
  })

  it('an order this service never recorded and WeChat does not confirm', async () => {
    const logs = captureWarnings()
    const received = shop()
    const ghost = { out_trade_no: orderNo('G'), total_fee: 100, openid: 'o1' }
    const reply = await deliver(await notification(ghost))
    expect(reply.text).toContain('FAIL')
    expect(received).toHaveLength(0)
    expect(await record(ghost.out_trade_no)).toBeNull()
    expect(await env.ORDERS.get(`order:${ghost.out_trade_no}`)).toBeNull()
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'notify_rejected', reason: 'unknown_order', out_trade_no: ghost.out_trade_no }),
    )
  })
})

describe('the ledger decides, not the KV snapshot', () => {
  it('a payment for an order whose snapshot has not reached this location is still taken and relayed once', async () => {
    const received = shop()
    const order = await placeOrder()
    // As in another location: the KV snapshot is not visible there yet. The ledger is one place.
    await env.ORDERS.delete(`order:${order.out_trade_no}`)
    const message = await notification(order)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(received).toHaveLength(1)
    expect(await record(order.out_trade_no)).toMatchObject({ trade_state: 'SUCCESS', relayed_at: expect.any(String) })
  })
})

describe('the record only moves forward', () => {
  it('a stale orderquery that lands after the notification does not undo SUCCESS', async () => {
    shop()
    const order = await placeOrder()
    const message = await notification(order)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    route(PRIMARY, async (request) => {
      const { out_trade_no } = await readRequest(request)
      return successReply({
        out_trade_no: out_trade_no as string,
        trade_state: 'NOTPAY',
        total_fee: String(order.total_fee),
      })
    })
    const stale = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no })
    expect(stale.body.data.trade_state).toBe('NOTPAY')
    expect(await record(order.out_trade_no)).toMatchObject({ trade_state: 'SUCCESS', relayed_at: expect.any(String) })
    route(PRIMARY, passThrough)
  })

  it('a close that lands after the payment does not undo SUCCESS', async () => {
    shop()
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    const close = await post('/v1/pay/closeOrder', { out_trade_no: order.out_trade_no })
    expect(close.body.error.code).toBe('ORDERPAID')
    expect(await record(order.out_trade_no)).toMatchObject({ trade_state: 'SUCCESS' })
  })
})

describe('the full loop with the sandbox', () => {
  it('params → sandbox pay → notify → relay → queryOrder SUCCESS', async () => {
    const received = shop()
    const order = await placeOrder()
    const { data } = await sandboxPay(order.out_trade_no)
    expect(data.notification.delivered).toBe(true)
    expect(received).toHaveLength(1)
    const relayed = JSON.parse((received[0] as Relay).body)
    expect(relayed.data).toMatchObject({
      out_trade_no: order.out_trade_no,
      transaction_id: data.transaction_id,
      total_fee: order.total_fee,
    })
    const query = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no })
    expect(query.body.data).toMatchObject({ trade_state: 'SUCCESS', transaction_id: data.transaction_id })
  })
})
