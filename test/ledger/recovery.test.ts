/**
 * No payment goes unheard: orders check themselves, relays retry on the service's own schedule,
 * and a shop can ask for a relay again. The ledger's alarm is run by the test (runAlarm) in place
 * of the clock; RECOVERY_SCHEDULE and RELAY_RETRY_SCHEDULE have three steps each in tests.
 */
import { describe, expect, it, vi } from 'vitest'
import { post } from '../support/api'
import { ledgerRecord, runAlarm, snapshot, snapshotCaughtUp } from '../support/ledger'
import { PRIMARY, passThrough, route } from '../support/net'
import { deliver, notification, placeOrder, SUCCESS_XML, shop, transactionId } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { PUBLIC_KEY_ID } from '../support/v3-keys'
import { signed } from '../support/v3-standin'
import { V3 } from '../support/version'
import { APPID, MCH_ID, readRequest, successReply } from '../support/wechat'

/**
 * WeChat (a strict stand-in, signed replies in the API version under test) says the order was paid;
 * everything else goes to the sandbox.
 */
function wechatSaysPaid(
  order: { out_trade_no: string; total_fee: number; openid: string },
  { closeorder = 'pass' }: { closeorder?: 'pass' | 'ORDERPAID' } = {},
): { transaction_id: string; queries: number } {
  const seen = { transaction_id: transactionId(), queries: 0 }
  route(PRIMARY, async (request) => {
    const path = new URL(request.url).pathname
    if (V3) {
      if (path.endsWith('/close') && closeorder === 'ORDERPAID')
        return signed({ status: 400, json: { code: 'ORDERPAID', message: '订单已支付' } }, PUBLIC_KEY_ID)
      if (request.method !== 'GET' || !path.includes('/v3/pay/transactions/out-trade-no/')) return passThrough(request)
      seen.queries += 1
      return signed({ status: 200, json: paidTransaction(order, seen.transaction_id) }, PUBLIC_KEY_ID)
    }
    if (path.endsWith('/pay/closeorder') && closeorder === 'ORDERPAID')
      return successReply({ result_code: 'FAIL', err_code: 'ORDERPAID', err_code_des: '订单已支付' })
    if (!path.endsWith('/pay/orderquery')) return passThrough(request)
    seen.queries += 1
    const { out_trade_no } = await readRequest(request)
    return successReply({
      out_trade_no: out_trade_no as string,
      trade_state: 'SUCCESS',
      trade_type: 'JSAPI',
      total_fee: String(order.total_fee),
      cash_fee: String(order.total_fee),
      fee_type: 'CNY',
      bank_type: 'CFT',
      openid: order.openid,
      transaction_id: seen.transaction_id,
      time_end: '20261129120000',
    })
  })
  return seen
}

/** v3's transaction object (query reply) for a paid order (v3 reference §6.7). */
function paidTransaction(order: { out_trade_no: string; total_fee: number; openid: string }, transactionId: string) {
  return {
    appid: APPID,
    mchid: MCH_ID,
    out_trade_no: order.out_trade_no,
    transaction_id: transactionId,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2026-11-29T12:00:00+08:00',
    payer: { openid: order.openid },
    amount: { total: order.total_fee, payer_total: order.total_fee, currency: 'CNY', payer_currency: 'CNY' },
  }
}

type Line = Record<string, unknown>
const lines = (logs: () => unknown[]) => logs() as Line[]

describe('orders check themselves until settled', () => {
  it('a payment WeChat never notified is found by the self-check and relayed once', async () => {
    const received = shop()
    const order = await placeOrder()
    const wechat = wechatSaysPaid(order)
    const logs = captureLogs()
    expect(await runAlarm(order.out_trade_no)).toBe(true)
    expect(wechat.queries).toBe(1)
    expect(received).toHaveLength(1)
    const relayed = JSON.parse(received[0]?.body as string)
    expect(relayed).toMatchObject({
      type: 'payment',
      data: { out_trade_no: order.out_trade_no, transaction_id: wechat.transaction_id, total_fee: order.total_fee },
    })
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      relayed_at: expect.any(String),
    })
    expect(lines(logs)).toContainEqual(
      expect.objectContaining({ event: 'self_check', out_trade_no: order.out_trade_no, found: 'SUCCESS, relayed' }),
    )

    // Settled: the next alarm (the snapshot's) does not ask again, and WeChat's own late
    // notification of the same payment is acknowledged without a second relay.
    await runAlarm(order.out_trade_no)
    expect(wechat.queries).toBe(1)
    const late = await notification(order, { fields: { transaction_id: wechat.transaction_id } })
    expect((await deliver(late)).text).toBe(SUCCESS_XML)
    expect(received).toHaveLength(1)
  })

  it('an order still unpaid is asked on each step of the schedule, then left alone', async () => {
    const order = await placeOrder()
    let queries = 0
    route(PRIMARY, (request) => {
      const path = new URL(request.url).pathname
      if (path.endsWith('/pay/orderquery') || path.includes('/v3/pay/transactions/out-trade-no/')) queries += 1
      return passThrough(request)
    })
    for (let i = 0; i < 5; i++) await runAlarm(order.out_trade_no)
    expect(queries).toBe(3)
    expect(await runAlarm(order.out_trade_no)).toBe(false)
    expect((await ledgerRecord(order.out_trade_no))?.trade_state).toBe('NOTPAY')
  })

  it('a queryOrder that finds the payment relays it like a notification, once', async () => {
    const received = shop()
    const order = await placeOrder()
    wechatSaysPaid(order)
    const [first, second] = await Promise.all([
      post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no }),
      post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no }),
    ])
    expect(first.body.data.trade_state).toBe('SUCCESS')
    expect(second.body.data.trade_state).toBe('SUCCESS')
    await vi.waitFor(async () => expect((await ledgerRecord(order.out_trade_no))?.relayed_at).toBeDefined())
    expect(received).toHaveLength(1)
  })

  it('closeOrder answered ORDERPAID by WeChat records the payment, relays it, and says so', async () => {
    const received = shop()
    const order = await placeOrder()
    const wechat = wechatSaysPaid(order, { closeorder: 'ORDERPAID' })
    const close = await post('/v1/pay/closeOrder', { out_trade_no: order.out_trade_no })
    expect(close.status).toBe(409)
    expect(close.body.error).toEqual({
      code: 'ORDERPAID',
      message: `order ${order.out_trade_no} was paid before it could be closed (transaction_id ${wechat.transaction_id})`,
    })
    await vi.waitFor(async () => expect((await ledgerRecord(order.out_trade_no))?.relayed_at).toBeDefined())
    expect(received).toHaveLength(1)
    expect((await ledgerRecord(order.out_trade_no))?.trade_state).toBe('SUCCESS')
  })
})

describe('whatever order they come in', () => {
  it('a self-check, a notification and two queries finding one payment at once → one relay, SUCCESS kept', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const received = shop(200, { delayMs: 20 })
      const order = await placeOrder()
      const wechat = wechatSaysPaid(order)
      const message = await notification(order, { fields: { transaction_id: wechat.transaction_id } })
      const [, notified, first, second] = await Promise.all([
        runAlarm(order.out_trade_no),
        deliver(message),
        post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no }),
        post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no }),
      ])
      expect(notified.text).toBe(SUCCESS_XML)
      expect([first.body.data.trade_state, second.body.data.trade_state]).toEqual(['SUCCESS', 'SUCCESS'])
      await vi.waitFor(async () => expect((await ledgerRecord(order.out_trade_no))?.relayed_at).toBeDefined())
      while (await runAlarm(order.out_trade_no)) {}
      expect(received).toHaveLength(1)
      expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
        trade_state: 'SUCCESS',
        transaction_id: wechat.transaction_id,
      })
    }
  })

  it('a stale NOTPAY from a self-check that lands after the payment moves nothing back', async () => {
    const received = shop()
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    // WeChat (the sandbox) never saw this payment: its orderquery still says NOTPAY.
    let queries = 0
    route(PRIMARY, (request) => {
      const path = new URL(request.url).pathname
      if (path.endsWith('/pay/orderquery') || path.includes('/v3/pay/transactions/out-trade-no/')) queries += 1
      return passThrough(request)
    })
    while (await runAlarm(order.out_trade_no)) {}
    expect(queries).toBe(0) // settled orders do not check themselves
    const stale = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no })
    expect(stale.body.data.trade_state).toBe('NOTPAY')
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      relayed_at: expect.any(String),
    })
    expect(received).toHaveLength(1)
  })
})

describe('relays retry on the service’s own schedule', () => {
  it('a shop down past WeChat’s retries gets the payment once it is back, exactly once', async () => {
    const logs = captureLogs()
    const down = shop(500)
    const order = await placeOrder()
    const message = await notification(order)
    expect((await deliver(message)).text).toContain('FAIL')
    // WeChat's own retries, all failing too.
    expect((await deliver(message)).text).toContain('FAIL')
    expect(down).toHaveLength(2)
    // The first retry (the alarm may first write a coalesced snapshot): still down.
    for (let i = 0; i < 3 && down.length < 3; i++) await runAlarm(order.out_trade_no)
    expect(down).toHaveLength(3)

    const up = shop(200)
    for (let i = 0; i < 3 && up.length < 1; i++) await runAlarm(order.out_trade_no)
    expect(up).toHaveLength(1)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ relayed_at: expect.any(String), relay_failures: 3 })
    // Nothing more is scheduled; a late WeChat retry is acknowledged without a second relay.
    while (await runAlarm(order.out_trade_no)) {}
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(up).toHaveLength(1)
    expect(lines(logs).filter((line) => line.event === 'relay_retry')).toEqual([
      expect.objectContaining({ relay: 'payment', attempt: 1, delivered: false }),
      expect.objectContaining({ relay: 'payment', attempt: 2, delivered: true }),
    ])
  })

  it('when the schedule is spent the order is marked relay-failed, logged once, and redelivery still works', async () => {
    const logs = captureLogs()
    const down = shop(503)
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toContain('FAIL')
    for (let i = 0; i < 8; i++) await runAlarm(order.out_trade_no)
    expect(down).toHaveLength(4) // the notification's relay, then three retries
    const record = await ledgerRecord(order.out_trade_no)
    expect(record).toMatchObject({ relay_failed_at: expect.any(String), relay_failures: 4 })
    expect(record).not.toHaveProperty('relayed_at')
    const spent = lines(logs).filter((line) => line.event === 'relay_schedule_spent')
    expect(spent).toEqual([
      expect.objectContaining({ out_trade_no: order.out_trade_no, relay: 'payment', attempts: 3 }),
    ])
    await snapshotCaughtUp(order.out_trade_no)
    expect((await snapshot(order.out_trade_no)).metadata).toMatchObject({ relay_failed: true, relayed: false })

    const up = shop(200)
    const again = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })
    expect(again).toMatchObject({ status: 200, body: { data: { delivered: true, status: 200 } } })
    expect(up).toHaveLength(1)
    await snapshotCaughtUp(order.out_trade_no)
    expect((await snapshot(order.out_trade_no)).metadata).toMatchObject({ relay_failed: false, relayed: true })
  })
})

describe('POST /v1/pay/redeliver', () => {
  it('relays a delivered payment again (a shop that lost its data), signed like the first', async () => {
    const received = shop()
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    const reply = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })
    expect(reply).toMatchObject({ status: 200, body: { data: { delivered: true, status: 200 } } })
    expect(received).toHaveLength(2)
    expect(received[1]?.body).toBe(received[0]?.body)
  })

  it('reports a shop that does not answer 2xx without throwing', async () => {
    shop(200)
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    shop(500)
    const reply = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })
    expect(reply).toMatchObject({
      status: 200,
      body: { data: { delivered: false, reason: 'the shop answered HTTP 500' } },
    })
  })

  it.each([
    ['an order with no record → 404 ORDERNOTEXIST', async () => 'NOSUCHORDER1', 404, 'ORDERNOTEXIST'],
    [
      'an unpaid order → 409 wxPayError.notPaid',
      async () => (await placeOrder()).out_trade_no,
      409,
      'wxPayError.notPaid',
    ],
  ])('%s', async (_case, make, status, code) => {
    const reply = await post('/v1/pay/redeliver', { out_trade_no: await make() })
    expect(reply.status).toBe(status)
    expect(reply.body.error.code).toBe(code)
  })
})
