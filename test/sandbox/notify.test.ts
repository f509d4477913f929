/** POST /sandbox/pay and the payment notification it sends the way WeChat does (§6). */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type SignType, verify } from '../../src/wechat/sign'
import { decode } from '../../src/wechat/xml'
import { route } from '../support/net'
import { APPID, call, type DevReply, dev, KEY, MCH_ID, order, waitForOrder } from './client'

const SUCCESS_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'
const FAIL_XML = '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>'

type Captured = { fields: Record<string, string>; contentType: string | null; method: string }

/** Routes shop.test to `answer` (called with the attempt number) and records what arrives. */
function shop(answer: (n: number) => Response | Promise<Response> = () => new Response(SUCCESS_XML)): Captured[] {
  const received: Captured[] = []
  route('shop.test', async (request) => {
    received.push({
      fields: decode(await request.text()),
      contentType: request.headers.get('content-type'),
      method: request.method,
    })
    return answer(received.length)
  })
  return received
}

async function placed(overrides: Record<string, string | undefined> = {}, signType: SignType = 'HMAC-SHA256') {
  const fields = order({ notify_url: 'https://shop.test/wxpay/notify', ...overrides })
  expect((await call('/pay/unifiedorder', fields, { signType })).result_code).toBe('SUCCESS')
  return fields
}

describe('the notification', () => {
  it.each([
    ['an HMAC order, with sign_type', 'HMAC-SHA256', 'send'],
    ['an HMAC order, without sign_type', 'HMAC-SHA256', 'omit'],
    ['an MD5 order, with sign_type', 'MD5', 'send'],
    ['an MD5 order, without sign_type', 'MD5', 'omit'],
  ] as const)('is signed with the order type for %s', async (_, signType, signTypeField) => {
    const received = shop()
    const fields = await placed({}, signType)
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no, sign_type_field: signTypeField })
    expect(paid.status).toBe(200)
    expect(received).toHaveLength(1)
    const [first] = received
    expect(first?.method).toBe('POST')
    expect(first?.contentType).toMatch(/^text\/xml/)
    const notification = first?.fields ?? {}
    expect(notification.sign_type).toBe(signTypeField === 'send' ? signType : undefined)
    expect(notification.sign).toHaveLength(signType === 'MD5' ? 32 : 64)
    // Verified with the order's type, and by the length rule a receiver must use when sign_type is absent.
    expect(await verify(notification, KEY, signType)).toBe(true)
    expect(await verify(notification, KEY)).toBe(true)
  })

  it('carries the §6.1 fields with the right amounts', async () => {
    const received = shop()
    const fields = await placed({ total_fee: '888', attach: '支付测试&', device_info: 'WEB' })
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no, sign_type_field: 'send' })
    const notification = received[0]?.fields
    expect(notification).toMatchObject({
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      appid: APPID,
      mch_id: MCH_ID,
      device_info: 'WEB',
      openid: fields.openid,
      is_subscribe: 'N',
      trade_type: 'JSAPI',
      bank_type: 'CFT',
      total_fee: '888',
      fee_type: 'CNY',
      cash_fee: '888',
      transaction_id: paid.body.data.transaction_id,
      out_trade_no: fields.out_trade_no,
      attach: '支付测试&',
      time_end: expect.stringMatching(/^20[0-9]{12}$/),
      nonce_str: expect.stringMatching(/^[A-Za-z0-9]{1,32}$/),
    })
    expect(notification?.trade_state).toBeUndefined()
    expect(notification?.coupon_fee).toBeUndefined()
  })

  it('carries the coupon as flat indexed fields', async () => {
    const received = shop()
    const fields = await placed({ total_fee: '500' })
    await dev('/pay', { out_trade_no: fields.out_trade_no, coupon_fee: '120' })
    expect(received[0]?.fields).toMatchObject({
      total_fee: '500',
      cash_fee: '380',
      coupon_fee: '120',
      coupon_count: '1',
      coupon_type_0: 'CASH',
      coupon_fee_0: '120',
      coupon_id_0: expect.stringMatching(/^[0-9]+$/),
    })
  })

  it('is sent after the order is paid, so the shop can query it while handling the notification', async () => {
    let seen: string | undefined
    const fields = await placed()
    shop(async () => {
      seen = (
        await call('/pay/orderquery', {
          appid: APPID,
          mch_id: MCH_ID,
          nonce_str: 'n1',
          out_trade_no: fields.out_trade_no,
        })
      ).trade_state
      return new Response(SUCCESS_XML)
    })
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    expect(seen).toBe('SUCCESS')
  })
})

describe('delivery and retries', () => {
  it('counts one 2xx SUCCESS reply as delivered and does not retry', async () => {
    const received = shop()
    const fields = await placed()
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
    expect(paid.body.data).toMatchObject({
      out_trade_no: fields.out_trade_no,
      trade_state: 'SUCCESS',
      total_fee: 100,
      cash_fee: 100,
      notification: { delivered: true, attempts: [{ n: 1, ok: true, status: 200, return_code: 'SUCCESS' }] },
    })
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(received).toHaveLength(1)
    expect((await dev(`/orders/${fields.out_trade_no}`)).body.data.notification.attempts).toHaveLength(1)
  })

  it('retries a receiver that answers FAIL twice, and records all three attempts', async () => {
    const received = shop((n) => new Response(n <= 2 ? FAIL_XML : SUCCESS_XML))
    const fields = await placed()
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
    expect(paid.body.data.notification).toMatchObject({
      delivered: false,
      attempts: [{ n: 1, ok: false, return_code: 'FAIL' }],
    })
    const final = await waitForOrder(fields.out_trade_no, (o) => o.notification.delivered)
    expect(final.notification.attempts).toMatchObject([
      { n: 1, ok: false, status: 200, return_code: 'FAIL' },
      { n: 2, ok: false, status: 200, return_code: 'FAIL' },
      { n: 3, ok: true, status: 200, return_code: 'SUCCESS' },
    ])
    expect(received).toHaveLength(3)
    // Every retry is the same message.
    expect(new Set(received.map((r) => r.fields.nonce_str)).size).toBe(1)
  })

  it.each([
    ['a non-2xx status, even with SUCCESS XML', () => new Response(SUCCESS_XML, { status: 500 }), { status: 500 }],
    ['a bare SUCCESS string', () => new Response('SUCCESS'), { status: 200 }],
    ['JSON', () => Response.json({ return_code: 'SUCCESS' }), { status: 200 }],
    [
      'a network error',
      () => {
        throw new TypeError('connection refused')
      },
      { error: expect.stringContaining('connection refused') },
    ],
  ])('counts %s as a failed attempt and gives up after the schedule', async (_, answer, expected) => {
    const received = shop(answer)
    const fields = await placed()
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    // SANDBOX_NOTIFY_SCHEDULE is 0.05,0.05,0.05 in tests: 1 + 3 attempts.
    const final = await waitForOrder(fields.out_trade_no, (o) => o.notification.attempts.length >= 4)
    expect(final.notification.delivered).toBe(false)
    expect(final.notification.attempts).toHaveLength(4)
    for (const attempt of final.notification.attempts) expect(attempt).toMatchObject({ ok: false, ...expected })
    expect(received).toHaveLength(4)
  })
})

describe('POST /sandbox/pay and GET /sandbox/orders', () => {
  it('accepts form fields as well as JSON', async () => {
    shop()
    const fields = await placed()
    const response = await exports.default.fetch(
      new Request('http://service.test/sandbox/pay', {
        method: 'POST',
        body: new URLSearchParams({ out_trade_no: fields.out_trade_no, coupon_fee: '10' }),
      }),
    )
    expect(response.status).toBe(200)
    expect(((await response.json()) as DevReply['body']).data).toMatchObject({ cash_fee: 90, coupon_fee: 10 })
  })

  it('refuses to pay an order twice with 409 ORDERPAID', async () => {
    shop()
    const fields = await placed()
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    const again = await dev('/pay', { out_trade_no: fields.out_trade_no })
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'ORDERPAID' } } })
  })

  it('answers 404 ORDERNOTEXIST for an unknown order', async () => {
    expect(await dev('/pay', { out_trade_no: 'neverPlaced3' })).toMatchObject({
      status: 404,
      body: { error: { code: 'ORDERNOTEXIST' } },
    })
    expect(await dev('/orders/neverPlaced3')).toMatchObject({ status: 404, body: { error: { code: 'ORDERNOTEXIST' } } })
  })

  it.each([
    ['no out_trade_no', () => ({}), 'out_trade_no'],
    ['a coupon_fee equal to total_fee', (no: string) => ({ out_trade_no: no, coupon_fee: 100 }), 'coupon_fee'],
    ['a zero coupon_fee', (no: string) => ({ out_trade_no: no, coupon_fee: 0 }), 'coupon_fee'],
    ['a fractional coupon_fee', (no: string) => ({ out_trade_no: no, coupon_fee: '1.5' }), 'coupon_fee'],
    ['an unknown sign_type_field', (no: string) => ({ out_trade_no: no, sign_type_field: 'maybe' }), 'sign_type_field'],
  ])('answers 400 for %s and leaves the order unpaid', async (_, input, field) => {
    const fields = await placed()
    const reply = await dev('/pay', input(fields.out_trade_no))
    expect(reply).toMatchObject({ status: 400, body: { error: { code: 'wxPayError.params' } } })
    expect(reply.body.error.message).toContain(field)
    expect((await dev(`/orders/${fields.out_trade_no}`)).body.data.trade_state).toBe('NOTPAY')
  })

  it('shows an order with its request, state and notification', async () => {
    const fields = await placed({ attach: 'a1' })
    const shown = await dev(`/orders/${fields.out_trade_no}`)
    expect(shown.status).toBe(200)
    expect(shown.body.data).toMatchObject({
      out_trade_no: fields.out_trade_no,
      total_fee: 100,
      attach: 'a1',
      trade_type: 'JSAPI',
      notify_url: fields.notify_url,
      sign_type: 'HMAC-SHA256',
      trade_state: 'NOTPAY',
      prepay_id: expect.stringMatching(/^wx/),
      notification: { delivered: false, attempts: [] },
    })
  })
})
