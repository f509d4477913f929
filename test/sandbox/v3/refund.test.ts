/** v3 refunds (v3 reference §6.10, §6.11) and REFUND.* notifications (§5), on the v2 sandbox's rules. */
import { describe, expect, it } from 'vitest'
import { call, dev, jsapiBody, MCH_ID, opened, shop, signedBy, tradeNo, warmUp } from '../../support/v3'
import { call as callV2, order as v2Order } from '../client'

warmUp()

const REFUNDS = '/v3/refund/domestic/refunds'

async function paid(total = 100, placeV2 = false) {
  if (placeV2) {
    const fields = v2Order({ out_trade_no: tradeNo('V2'), total_fee: String(total) })
    await callV2('/pay/unifiedorder', fields)
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    return fields.out_trade_no
  }
  const body = jsapiBody({ amount: { total, currency: 'CNY' } })
  await call('POST', '/v3/pay/transactions/jsapi', { json: body })
  await dev('/pay', { out_trade_no: body.out_trade_no })
  return body.out_trade_no
}

const refund = (outTradeNo: string, amount: Record<string, unknown>, overrides: Record<string, unknown> = {}) =>
  call('POST', REFUNDS, {
    json: {
      out_trade_no: outTradeNo,
      out_refund_no: tradeNo('R'),
      notify_url: 'https://shop.test/v1/pay/notify/refund',
      amount: { currency: 'CNY', ...amount },
      ...overrides,
    },
  })

describe('a refund', () => {
  it('of a paid order is accepted PROCESSING, queried by out_refund_no, and notified REFUND.SUCCESS once completed', async () => {
    const no = await paid()
    const received = shop()
    const accepted = await refund(no, { refund: 30, total: 100 }, { reason: '商品已售完' })
    expect(accepted.status).toBe(200)
    expect(await signedBy(accepted)).toBe(true)
    expect(accepted.json).toMatchObject({
      out_trade_no: no,
      status: 'PROCESSING',
      channel: 'ORIGINAL',
      amount: { total: 100, refund: 30, payer_total: 100, payer_refund: 30, currency: 'CNY' },
    })
    expect(accepted.json.refund_id).toMatch(/^\d{29}$/)
    expect(accepted.json.create_time).toMatch(/\+08:00$/)
    const outRefundNo = accepted.json.out_refund_no as string
    const queried = await call('GET', `${REFUNDS}/${outRefundNo}`)
    expect(queried.json).toEqual(accepted.json)

    expect((await dev('/refund', { out_refund_no: outRefundNo })).status).toBe(200)
    expect(received).toHaveLength(1)
    const [notification] = received as [(typeof received)[number]]
    expect(await signedBy(notification)).toBe(true)
    expect(notification.json).toMatchObject({
      event_type: 'REFUND.SUCCESS',
      summary: '退款成功',
      resource: { original_type: 'refund', associated_data: 'refund' },
    })
    const resource = await opened(notification)
    expect(resource).toMatchObject({
      out_trade_no: no,
      out_refund_no: outRefundNo,
      refund_id: accepted.json.refund_id,
      refund_status: 'SUCCESS',
      amount: { total: 100, refund: 30, payer_total: 100, payer_refund: 30 },
    })
    const done = await call('GET', `${REFUNDS}/${outRefundNo}`)
    expect(done.json).toMatchObject({ status: 'SUCCESS', success_time: resource.success_time })
    // The order now reads REFUND (转入退款), as a query shows it.
    const order = await call('GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${MCH_ID}`)
    expect(order.json.trade_state).toBe('REFUND')
  })

  it.each([
    ['REFUNDCLOSE', 'REFUND.CLOSED', 'CLOSED'],
    ['CHANGE', 'REFUND.ABNORMAL', 'ABNORMAL'],
  ])('completed %s is notified %s', async (status, event, refundStatus) => {
    const no = await paid()
    const received = shop()
    const accepted = await refund(no, { refund: 100, total: 100 })
    await dev('/refund', { out_refund_no: accepted.json.out_refund_no as string, status })
    expect(received[0]?.json.event_type).toBe(event)
    expect(await opened(received[0] as (typeof received)[number])).toMatchObject({ refund_status: refundStatus })
  })

  it('of an order placed through v2 is notified in v3’s form: the form follows the refund request', async () => {
    const no = await paid(100, true)
    const received = shop()
    const accepted = await refund(no, { refund: 100, total: 100 })
    expect(accepted.status).toBe(200)
    await dev('/refund', { out_refund_no: accepted.json.out_refund_no as string })
    expect(received[0]?.json.event_type).toBe('REFUND.SUCCESS')
  })

  it('asked again with the same out_refund_no and amounts is the same refund; other amounts are refused', async () => {
    const no = await paid()
    const outRefundNo = tradeNo('R')
    const first = await refund(no, { refund: 10, total: 100 }, { out_refund_no: outRefundNo })
    const again = await refund(no, { refund: 10, total: 100 }, { out_refund_no: outRefundNo })
    expect(again.json.refund_id).toBe(first.json.refund_id)
    const other = await refund(no, { refund: 11, total: 100 }, { out_refund_no: outRefundNo })
    expect([other.status, other.json.code]).toEqual([400, 'INVALID_REQUEST'])
  })

  it('never refunds more than was paid', async () => {
    const no = await paid()
    expect((await refund(no, { refund: 60, total: 100 })).status).toBe(200)
    const tooMuch = await refund(no, { refund: 41, total: 100 })
    expect([tooMuch.status, tooMuch.json.code]).toEqual([400, 'INVALID_REQUEST'])
    expect((await refund(no, { refund: 40, total: 100 })).status).toBe(200)
    const nothingLeft = await refund(no, { refund: 1, total: 100 })
    expect([nothingLeft.status, nothingLeft.json.code]).toEqual([400, 'INVALID_REQUEST'])
  })

  it.each([
    ['an unpaid order', async () => refund(await placedOnly(), { refund: 1, total: 100 }), 404, 'RESOURCE_NOT_EXISTS'],
    ['an unknown order', async () => refund(tradeNo('NONE'), { refund: 1, total: 100 }), 404, 'RESOURCE_NOT_EXISTS'],
    [
      'a total that is not the order’s',
      async () => refund(await paid(), { refund: 1, total: 99 }),
      400,
      'INVALID_REQUEST',
    ],
    ['a refund above the total', async () => refund(await paid(), { refund: 101, total: 100 }), 400, 'PARAM_ERROR'],
    [
      'no currency',
      async () => refund(await paid(), { refund: 1, total: 100, currency: undefined }),
      400,
      'PARAM_ERROR',
    ],
    [
      'an http notify_url',
      async () => refund(await paid(), { refund: 1, total: 100 }, { notify_url: 'http://shop.example.com/r' }),
      400,
      'PARAM_ERROR',
    ],
    [
      'neither out_trade_no nor transaction_id',
      async () => refund('', { refund: 1, total: 100 }, { out_trade_no: undefined }),
      400,
      'PARAM_ERROR',
    ],
    [
      'an out_refund_no with a space',
      async () => refund(await paid(), { refund: 1, total: 100 }, { out_refund_no: 'R 1' }),
      400,
      'PARAM_ERROR',
    ],
  ] as const)('is refused for %s', async (_, send, status, code) => {
    const reply = await send()
    expect([reply.status, reply.json.code]).toEqual([status, code])
    expect(await signedBy(reply)).toBe(true)
  })

  it('unknown to a query is 404 RESOURCE_NOT_EXISTS', async () => {
    const reply = await call('GET', `${REFUNDS}/${tradeNo('NONE')}`)
    expect([reply.status, reply.json.code]).toEqual([404, 'RESOURCE_NOT_EXISTS'])
  })
})

async function placedOnly() {
  const body = jsapiBody()
  await call('POST', '/v3/pay/transactions/jsapi', { json: body })
  return body.out_trade_no
}
