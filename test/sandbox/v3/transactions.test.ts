/** v3 orders, queries and closing (v3 reference §6.1–§6.7), on the records the v2 sandbox shares. */
import { describe, expect, it } from 'vitest'
import { APPID, call, dev, jsapiBody, MCH_ID, signedBy, tradeNo, warmUp } from '../../support/v3'
import { call as callV2, order as v2Order } from '../client'

warmUp()

const query = (no: string, mchid: string | null = MCH_ID) =>
  call('GET', `/v3/pay/transactions/out-trade-no/${no}${mchid === null ? '' : `?mchid=${mchid}`}`)
const close = (no: string, mchid = MCH_ID) =>
  call('POST', `/v3/pay/transactions/out-trade-no/${no}/close`, { json: { mchid } })
const H5_SCENE = { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' } }

describe('placing an order', () => {
  it.each([
    ['jsapi', {}, 'prepay_id', /^wx\d{14}[0-9a-f]{20}$/],
    ['app', { payer: undefined }, 'prepay_id', /^wx\d{14}[0-9a-f]{20}$/],
    ['native', { payer: undefined }, 'code_url', /^weixin:\/\/wxpay\/bizpayurl\?pr=\w{9}$/],
    [
      'h5',
      { payer: undefined, scene_info: H5_SCENE },
      'h5_url',
      /^https:\/\/wx\.tenpay\.com\/cgi-bin\/mmpayweb-bin\/checkmweb\?prepay_id=wx/,
    ],
  ] as const)('%s answers its one field, signed', async (kind, overrides, field, pattern) => {
    const reply = await call('POST', `/v3/pay/transactions/${kind}`, { json: jsapiBody(overrides) })
    expect(reply.status).toBe(200)
    expect(Object.keys(reply.json)).toEqual([field])
    expect(reply.json[field]).toMatch(pattern)
    expect(await signedBy(reply)).toBe(true)
  })

  it('again with the same parameters answers the same prepay_id; other parameters are OUT_TRADE_NO_USED', async () => {
    const body = jsapiBody({ attach: 'cart=42', scene_info: { payer_client_ip: '203.0.113.7', device_id: 'POS1' } })
    const first = await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    // The same values, keys in another order, are the same parameters.
    const reordered = Object.fromEntries(Object.entries(body).reverse())
    const again = await call('POST', '/v3/pay/transactions/jsapi', { json: reordered })
    expect(again.json.prepay_id).toBe(first.json.prepay_id)
    for (const changed of [{ amount: { total: 101, currency: 'CNY' } }, { attach: 'cart=43' }, { attach: undefined }]) {
      const reply = await call('POST', '/v3/pay/transactions/jsapi', { json: { ...body, ...changed } })
      expect(reply.status).toBe(403)
      expect(reply.json.code).toBe('OUT_TRADE_NO_USED')
    }
    const asNative = await call('POST', '/v3/pay/transactions/native', { json: { ...body, payer: undefined } })
    expect(asNative.json.code).toBe('OUT_TRADE_NO_USED')
  })

  it('an out_trade_no placed through v2 is OUT_TRADE_NO_USED here', async () => {
    const fields = v2Order({ out_trade_no: tradeNo('V2') })
    expect((await callV2('/pay/unifiedorder', fields)).result_code).toBe('SUCCESS')
    const reply = await call('POST', '/v3/pay/transactions/jsapi', {
      json: jsapiBody({ out_trade_no: fields.out_trade_no }),
    })
    expect(reply.status).toBe(403)
    expect(reply.json.code).toBe('OUT_TRADE_NO_USED')
  })

  it('accepts http notify_urls on loopback and .test names only (the one difference from WeChat)', async () => {
    for (const url of [
      'http://localhost:8787/v1/pay/notify',
      'http://127.0.0.1:8787/v1/pay/notify',
      'http://service.test/v1/pay/notify',
    ]) {
      expect((await call('POST', '/v3/pay/transactions/jsapi', { json: jsapiBody({ notify_url: url }) })).status).toBe(
        200,
      )
    }
  })

  it.each([
    ['out_trade_no of 5 characters', { out_trade_no: 'ABCDE' }, '/out_trade_no'],
    ['out_trade_no of 33 characters', { out_trade_no: 'A'.repeat(33) }, '/out_trade_no'],
    ['out_trade_no with a dot', { out_trade_no: 'ORDER.000001' }, '/out_trade_no'],
    ['no description', { description: undefined }, '/description'],
    ['a description of 128 characters', { description: '商'.repeat(128) }, '/description'],
    ['an attach of 129 characters', { attach: 'a'.repeat(129) }, '/attach'],
    ['amount.total 0', { amount: { total: 0, currency: 'CNY' } }, '/amount/total'],
    ['amount.total in yuan', { amount: { total: 1.5, currency: 'CNY' } }, '/amount/total'],
    ['amount.total as a string', { amount: { total: '100', currency: 'CNY' } }, '/amount/total'],
    ['amount.total past an int', { amount: { total: 2 ** 31, currency: 'CNY' } }, '/amount/total'],
    ['currency USD', { amount: { total: 100, currency: 'USD' } }, '/amount/currency'],
    ['no amount', { amount: undefined }, '/amount'],
    ['v2 names (total_fee, body)', { amount: undefined, total_fee: 100 }, '/amount'],
    ['a notify_url on http', { notify_url: 'http://shop.example.com/notify' }, '/notify_url'],
    ['a notify_url with a query', { notify_url: 'https://shop.test/notify?order=1' }, '/notify_url'],
    ['a time_expire in v2 format', { time_expire: '20260101083000' }, '/time_expire'],
    ['JSAPI without payer', { payer: undefined }, '/payer'],
    ['a scene_info without payer_client_ip', { scene_info: { device_id: 'POS1' } }, '/scene_info/payer_client_ip'],
  ])('refuses %s: 400 PARAM_ERROR naming the field', async (_, overrides, field) => {
    const reply = await call('POST', '/v3/pay/transactions/jsapi', { json: jsapiBody(overrides) })
    expect(reply.status).toBe(400)
    expect(reply.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field, location: 'body' } })
    expect(await signedBy(reply)).toBe(true)
  })

  it('refuses H5 without scene_info.h5_info', async () => {
    const reply = await call('POST', '/v3/pay/transactions/h5', {
      json: jsapiBody({ payer: undefined, scene_info: { payer_client_ip: '203.0.113.7' } }),
    })
    expect(reply.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/scene_info/h5_info' } })
  })

  it('refuses another appid and another mchid in the body', async () => {
    const appid = await call('POST', '/v3/pay/transactions/jsapi', { json: jsapiBody({ appid: 'wx0000000000000000' }) })
    expect([appid.status, appid.json.code]).toEqual([400, 'APPID_MCHID_NOT_MATCH'])
    const mchid = await call('POST', '/v3/pay/transactions/jsapi', { json: jsapiBody({ mchid: '1900007291' }) })
    expect([mchid.status, mchid.json.code]).toEqual([400, 'MCH_NOT_EXISTS'])
  })
})

describe('querying an order', () => {
  it('answers an unpaid order without payment fields', async () => {
    const body = jsapiBody({ attach: 'x' })
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    const reply = await query(body.out_trade_no)
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({
      appid: APPID,
      mchid: MCH_ID,
      out_trade_no: body.out_trade_no,
      trade_type: 'JSAPI',
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
      amount: { total: 100, currency: 'CNY', payer_currency: 'CNY' },
    })
    expect(await signedBy(reply)).toBe(true)
  })

  it('answers a paid order with the §6.7 fields, by out_trade_no and by transaction_id', async () => {
    const body = jsapiBody({ attach: 'cart=42' })
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    expect((await dev('/pay', { out_trade_no: body.out_trade_no, coupon_fee: 10 })).status).toBe(200)
    const reply = await query(body.out_trade_no)
    expect(reply.json).toMatchObject({
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      attach: 'cart=42',
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      amount: { total: 100, payer_total: 90, currency: 'CNY', payer_currency: 'CNY' },
      promotion_detail: [expect.objectContaining({ amount: 10, type: 'CASH' })],
    })
    expect(reply.json.success_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/)
    const byId = await call('GET', `/v3/pay/transactions/id/${reply.json.transaction_id}?mchid=${MCH_ID}`)
    expect(byId.json).toEqual(reply.json)
  })

  it('answers an order placed through v2 too: the orders are WeChat’s, not an API version’s', async () => {
    const fields = v2Order({ out_trade_no: tradeNo('V2'), total_fee: '300' })
    await callV2('/pay/unifiedorder', fields)
    const reply = await query(fields.out_trade_no)
    expect(reply.json).toMatchObject({ trade_state: 'NOTPAY', amount: { total: 300 } })
  })

  it('is 404 ORDER_NOT_EXIST for an unknown order, and 400 without or with another mchid', async () => {
    expect((await query(tradeNo('NONE'))).json.code).toBe('ORDER_NOT_EXIST')
    expect((await query(tradeNo('NONE'))).status).toBe(404)
    expect((await query(tradeNo('NONE'), null)).json).toMatchObject({ code: 'PARAM_ERROR' })
    expect((await query(tradeNo('NONE'), '1900007291')).json).toMatchObject({ code: 'MCH_NOT_EXISTS' })
  })
})

describe('closing an order', () => {
  it('answers 204 with an empty, signed body; the order then reads CLOSED and cannot be placed again', async () => {
    const body = jsapiBody()
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    const reply = await close(body.out_trade_no)
    expect(reply.status).toBe(204)
    expect(reply.text).toBe('')
    // The verify string of a 204 ends in "\n\n" (vector B7).
    expect(await signedBy(reply)).toBe(true)
    expect((await query(body.out_trade_no)).json).toMatchObject({ trade_state: 'CLOSED' })
    const again = await close(body.out_trade_no)
    expect([again.status, again.json.code]).toEqual([400, 'ORDER_CLOSED'])
    const placed = await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    expect([placed.status, placed.json.code]).toEqual([400, 'ORDER_CLOSED'])
  })

  it('refuses a paid order, an unknown one, and a body without mchid', async () => {
    const body = jsapiBody()
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    await dev('/pay', { out_trade_no: body.out_trade_no })
    expect((await close(body.out_trade_no)).json.code).toBe('ORDERPAID')
    expect((await close(tradeNo('NONE'))).status).toBe(404)
    const noMchid = await call('POST', `/v3/pay/transactions/out-trade-no/${body.out_trade_no}/close`, { json: {} })
    expect(noMchid.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/mchid' } })
  })
})
