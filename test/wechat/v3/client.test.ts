/**
 * @module
 * The v3 client over the Worker's outbound fetch against a strict stand-in (test/support/v3-standin.ts):
 * every request's signature is checked with the merchant's public key, every reply is signed with
 * the "WeChat Pay" key, and the client answers in v2's fields, which src/wechat/refund.ts and
 * payment.ts read unchanged.
 */
import { describe, expect, it } from 'vitest'
import { describe as describeError, PayError } from '../../../src/errors'
import { readPayment } from '../../../src/wechat/payment'
import { refundQueryOf, refundReceiptOf } from '../../../src/wechat/refund'
import { createV3Client } from '../../../src/wechat/v3/client'
import { RefundQueryByOrderError } from '../../../src/wechat/v3/refunds'
import { route } from '../../support/net'
import { captureLogs } from '../../support/secrets'
import { type Signing, standIn, V3_BACKUP, V3_HOST, v3Config } from '../../support/v3-standin'
import * as V from './vectors'

const TRANSACTION = JSON.parse(V.B5_PLAIN) as Record<string, unknown>
const NO = 'ORD20260101000001'
const ORDER = {
  body: 'Test-商品',
  out_trade_no: NO,
  total_fee: '1',
  spbill_create_ip: '203.0.113.7',
  notify_url: 'https://pay.example.com/v1/pay/notify',
  attach: 'cart=42',
  time_expire: '20260101083000',
}

const client = () => createV3Client({ config: v3Config() })

async function caught(promise: Promise<unknown>): Promise<PayError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(PayError)
  return error as PayError
}

describe('unifiedorder → POST /v3/pay/transactions/{type}', () => {
  it('sends JSAPI as signed JSON with Accept, User-Agent, Content-Type and Wechatpay-Serial, and answers v2 fields', async () => {
    const wx = standIn({ 'POST /v3/pay/transactions/jsapi': () => ({ status: 200, json: { prepay_id: V.PREPAY } }) })
    route(V3_HOST, wx.handler)
    const reply = await client().call('/pay/unifiedorder', {
      ...ORDER,
      trade_type: 'JSAPI',
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    })
    expect(reply).toEqual({
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      appid: V.APPID,
      mch_id: V.MCHID,
      trade_type: 'JSAPI',
      prepay_id: V.PREPAY,
    })
    expect(wx.seen).toHaveLength(1)
    const [request] = wx.seen
    expect(request?.headers.get('wechatpay-serial')).toBe(V.PUB_KEY_ID)
    expect(JSON.parse(request?.body ?? '')).toEqual({
      appid: V.APPID,
      mchid: V.MCHID,
      description: 'Test-商品',
      out_trade_no: NO,
      time_expire: '2026-01-01T08:30:00+08:00',
      attach: 'cart=42',
      notify_url: 'https://pay.example.com/v1/pay/notify',
      amount: { total: 1, currency: 'CNY' },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      scene_info: { payer_client_ip: '203.0.113.7' },
    })
  })

  it('answers NATIVE with code_url (v3 gives no prepay_id) and drops the v2-only product_id', async () => {
    const wx = standIn({
      'POST /v3/pay/transactions/native': () => ({
        status: 200,
        json: { code_url: 'weixin://wxpay/bizpayurl?pr=JyC91EIz1' },
      }),
    })
    route(V3_HOST, wx.handler)
    const reply = await client().call('/pay/unifiedorder', { ...ORDER, trade_type: 'NATIVE', product_id: NO })
    expect(reply.code_url).toBe('weixin://wxpay/bizpayurl?pr=JyC91EIz1')
    expect(reply.prepay_id).toBeUndefined()
    expect(JSON.parse(wx.seen[0]?.body ?? '')).not.toHaveProperty('product_id')
  })

  it('answers MWEB from /h5 with mweb_url = h5_url and the prepay_id in it, sending h5_info the v3 way', async () => {
    const h5 =
      'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2916263004719461949c84457c735b0000&package=2150917749'
    const wx = standIn({ 'POST /v3/pay/transactions/h5': () => ({ status: 200, json: { h5_url: h5 } }) })
    route(V3_HOST, wx.handler)
    const scene = JSON.stringify({ h5_info: { type: 'Wap', wap_url: 'https://shop.example.com', wap_name: 'Shop' } })
    const reply = await client().call('/pay/unifiedorder', { ...ORDER, trade_type: 'MWEB', scene_info: scene })
    expect(reply).toMatchObject({ mweb_url: h5, prepay_id: 'wx2916263004719461949c84457c735b0000' })
    expect(JSON.parse(wx.seen[0]?.body ?? '').scene_info).toEqual({
      payer_client_ip: '203.0.113.7',
      h5_info: { type: 'Wap', app_name: 'Shop', app_url: 'https://shop.example.com' },
    })
  })

  it('sends v2 detail in v3 names (goods_id → merchant_goods_id, price → unit_price, receipt_id → invoice_id) and device_info as scene_info.device_id', async () => {
    const wx = standIn({ 'POST /v3/pay/transactions/app': () => ({ status: 200, json: { prepay_id: V.PREPAY } }) })
    route(V3_HOST, wx.handler)
    const detail = JSON.stringify({
      cost_price: 608800,
      receipt_id: 'wx123',
      goods_detail: [
        { goods_id: '1246464644', wxpay_goods_id: '1001', goods_name: 'iPhoneX 256G', quantity: 1, price: 528800 },
      ],
    })
    await client().call('/pay/unifiedorder', { ...ORDER, trade_type: 'APP', detail, device_info: '013467007045764' })
    const body = JSON.parse(wx.seen[0]?.body ?? '')
    expect(body.detail).toEqual({
      cost_price: 608800,
      invoice_id: 'wx123',
      goods_detail: [
        {
          merchant_goods_id: '1246464644',
          wechatpay_goods_id: '1001',
          goods_name: 'iPhoneX 256G',
          quantity: 1,
          unit_price: 528800,
        },
      ],
    })
    expect(body.scene_info).toEqual({ payer_client_ip: '203.0.113.7', device_id: '013467007045764' })
    expect(body).not.toHaveProperty('payer')
  })

  it.each([
    ['an out_trade_no under 6 characters (v3 rule)', { out_trade_no: 'O1' }, /6–32 characters/],
    ['limit_pay, which v3 lacks', { limit_pay: 'no_credit' }, /limit_pay: not supported/],
  ])('refuses %s with wxPayError.params before WeChat', async (_, change, message) => {
    const wx = standIn({})
    route(V3_HOST, wx.handler)
    const error = await caught(client().call('/pay/unifiedorder', { ...ORDER, trade_type: 'NATIVE', ...change }))
    expect(error.failure.kind).toBe('params')
    expect(error.message).toMatch(message)
    expect(wx.seen).toHaveLength(0)
  })
})

it('refuses with wxPayError.config naming WXPAY_PRIVATE_KEY when WebCrypto cannot import it, sending nothing', async () => {
  const wx = standIn({})
  route(V3_HOST, wx.handler)
  const config = v3Config({ WXPAY_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' })
  const error = await caught(createV3Client({ config }).call('/pay/orderquery', { out_trade_no: NO }))
  expect(error.failure.kind).toBe('config')
  expect(error.message).toMatch(/^WXPAY_PRIVATE_KEY: /)
  expect(wx.seen).toHaveLength(0)
})

describe("an order's own appid (a request field, as the v2 client takes it)", () => {
  const OTHER = 'wx0ther0appid00001'

  it('is sent in the order body and answered; orderquery checks the reply names it', async () => {
    const wx = standIn({
      'POST /v3/pay/transactions/native': () => ({ status: 200, json: { code_url: 'weixin://wxpay/bizpayurl?pr=A1' } }),
      'GET /v3/pay/transactions/out-trade-no/*': () => ({ status: 200, json: { ...TRANSACTION, appid: OTHER } }),
    })
    route(V3_HOST, wx.handler)
    const both = () => createV3Client({ config: v3Config({ WXPAY_APPID: `${V.APPID},${OTHER}` }) })
    const placed = await both().call('/pay/unifiedorder', { ...ORDER, appid: OTHER, trade_type: 'NATIVE' })
    expect(placed.appid).toBe(OTHER)
    expect(JSON.parse(wx.seen[0]?.body ?? '').appid).toBe(OTHER)
    expect((await both().call('/pay/orderquery', { out_trade_no: NO, appid: OTHER })).appid).toBe(OTHER)
    const error = await caught(both().call('/pay/orderquery', { out_trade_no: NO }))
    expect(error.message).toMatch(/another appid or mch_id/)
    // An appid WXPAY_APPID does not list is refused before WeChat, as the v2 client does.
    const unlisted = await caught(client().call('/pay/orderquery', { out_trade_no: NO, appid: OTHER }))
    expect(unlisted.failure.kind).toBe('config')
    expect(wx.seen).toHaveLength(3)
  })
})

describe('orderquery → GET …/out-trade-no/{no}?mchid=', () => {
  it('converts amount.*, payer and success_time (RFC 3339 → Beijing yyyyMMddHHmmss) into what readPayment reads', async () => {
    const wx = standIn({
      'GET /v3/pay/transactions/out-trade-no/*': () => ({
        status: 200,
        json: { ...TRANSACTION, success_time: '2026-01-01T00:00:05Z' },
      }),
    })
    route(V3_HOST, wx.handler)
    const reply = await client().call('/pay/orderquery', { out_trade_no: NO })
    expect(wx.seen[0]?.target).toBe(`/v3/pay/transactions/out-trade-no/${NO}?mchid=${V.MCHID}`)
    expect(reply).toMatchObject({
      trade_state: 'SUCCESS',
      total_fee: '1',
      cash_fee: '1',
      fee_type: 'CNY',
      time_end: '20260101080005',
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    })
    const found = readPayment(reply)
    expect(found.ok && found.payment.transaction_id).toBe('4200000000202601010000000001')
  })

  it.each([
    ['another order', { out_trade_no: 'ORD20260101000002' }, /another order/],
    ['another merchant', { mchid: '1230000110' }, /another appid or mch_id/],
  ])('refuses a signed reply about %s', async (_, change, message) => {
    route(
      V3_HOST,
      standIn({
        'GET /v3/pay/transactions/out-trade-no/*': () => ({ status: 200, json: { ...TRANSACTION, ...change } }),
      }).handler,
    )
    const error = await caught(client().call('/pay/orderquery', { out_trade_no: NO }))
    expect(error.failure.kind).toBe('upstream')
    expect(error.message).toMatch(message)
  })
})

describe('error replies map onto the one error table', () => {
  it.each([
    [404, 'ORDER_NOT_EXIST', 'ORDERNOTEXIST', 404],
    [404, 'ORDERNOTEXIST', 'ORDERNOTEXIST', 404],
    [202, 'USER_PAYING', 'USERPAYING', 502],
    [429, 'FREQUENCY_LIMITED', 'FREQUENCY_LIMITED', 503],
    [500, 'SYSTEM_ERROR', 'SYSTEMERROR', 503],
    [400, 'ORDER_CLOSED', 'ORDERCLOSED', 409],
  ])('HTTP %i %s → %s (%i)', async (status, code, errCode, httpStatus) => {
    quietly()
    const wx = standIn({ 'GET /v3/pay/transactions/out-trade-no/*': () => ({ status, json: { code, message: '…' } }) })
    route(V3_HOST, wx.handler)
    route(V3_BACKUP, wx.handler)
    const error = await caught(client().call('/pay/orderquery', { out_trade_no: NO }))
    expect(error.failure).toMatchObject({ kind: 'wechat', errCode })
    expect(describeError(error.failure).status).toBe(httpStatus)
  })

  it('tries the backup domain after a 5xx or a transport failure, re-signing the request', async () => {
    const logs = captureLogs()
    const backup = standIn({ 'POST /v3/pay/transactions/out-trade-no/*': () => ({ status: 204 }) })
    route(V3_HOST, () => new Response('bad gateway', { status: 502 }))
    route(V3_BACKUP, backup.handler)
    await client().call('/pay/closeorder', { out_trade_no: NO })
    expect(backup.seen.map((s) => s.target)).toEqual([`/v3/pay/transactions/out-trade-no/${NO}/close`])
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'wechat_transport_failure', base: `http://${V3_HOST}` }),
    )
  })
})

describe('every reply is verified before use', () => {
  it.each<[Signing, string]>([
    ['none', 'unsigned'],
    ['probe', 'probe'],
    ['wrong_key', 'bad_signature'],
    ['tampered', 'bad_signature'],
    ['stale', 'stale'],
    ['unknown_serial', 'unknown_serial'],
  ])('refuses a 2xx signed %s (%s)', async (signing, reason) => {
    const logs = captureLogs()
    route(
      V3_HOST,
      standIn({ 'GET /v3/pay/transactions/out-trade-no/*': () => ({ status: 200, json: TRANSACTION, signing }) })
        .handler,
    )
    const error = await caught(client().call('/pay/orderquery', { out_trade_no: NO }))
    expect(error.failure.kind).toBe('upstream')
    expect(logs()).toContainEqual({
      event: 'wechat_reply_rejected',
      path: `/v3/pay/transactions/out-trade-no/${NO}`,
      reason,
    })
  })

  it('verifies the signed empty body of closeorder’s 204', async () => {
    route(V3_HOST, standIn({ 'POST /v3/pay/transactions/out-trade-no/*': () => ({ status: 204 }) }).handler)
    expect(await client().call('/pay/closeorder', { out_trade_no: NO })).toMatchObject({ result_code: 'SUCCESS' })
    quietly()
    route(
      V3_HOST,
      standIn({ 'POST /v3/pay/transactions/out-trade-no/*': () => ({ status: 204, signing: 'none' }) }).handler,
    )
    expect((await caught(client().call('/pay/closeorder', { out_trade_no: NO }))).failure.kind).toBe('upstream')
  })
})

describe('refunds without a client certificate', () => {
  const REFUND = {
    refund_id: '50000000002026010200000000001',
    out_refund_no: 'RF20260102000001',
    transaction_id: '4200000000202601010000000001',
    out_trade_no: NO,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    success_time: '2026-01-02T10:00:00+08:00',
    create_time: '2026-01-02T09:59:58+08:00',
    status: 'SUCCESS',
    funds_account: 'AVAILABLE',
    amount: {
      total: 101,
      refund: 30,
      payer_total: 101,
      payer_refund: 30,
      settlement_refund: 30,
      settlement_total: 101,
      discount_refund: 0,
      currency: 'CNY',
    },
  }

  it('refund → POST /v3/refund/domestic/refunds, read by refundReceiptOf', async () => {
    const wx = standIn({
      'POST /v3/refund/domestic/refunds': () => ({ status: 200, json: { ...REFUND, status: 'PROCESSING' } }),
    })
    route(V3_HOST, wx.handler)
    const fields = {
      out_trade_no: NO,
      out_refund_no: REFUND.out_refund_no,
      total_fee: '101',
      refund_fee: '30',
      refund_desc: '缺货',
      notify_url: 'https://pay.example.com/v1/pay/notify/refund',
    }
    const receipt = refundReceiptOf(await client().call('/secapi/pay/refund', fields), {
      out_trade_no: NO,
      out_refund_no: REFUND.out_refund_no,
      total_fee: 101,
      refund_fee: 30,
    })
    expect(receipt).toMatchObject({ refund_id: REFUND.refund_id, refund_fee: 30, total_fee: 101, cash_refund_fee: 30 })
    expect(JSON.parse(wx.seen[0]?.body ?? '')).toEqual({
      out_trade_no: NO,
      out_refund_no: REFUND.out_refund_no,
      reason: '缺货',
      notify_url: 'https://pay.example.com/v1/pay/notify/refund',
      amount: { refund: 30, total: 101, currency: 'CNY' },
    })
  })

  it('refundquery by out_refund_no → GET …/refunds/{no}, read by refundQueryOf with v2 times and statuses', async () => {
    route(V3_HOST, standIn({ 'GET /v3/refund/domestic/refunds/*': () => ({ status: 200, json: REFUND }) }).handler)
    const query = refundQueryOf(await client().call('/pay/refundquery', { out_refund_no: REFUND.out_refund_no }), {
      out_refund_no: REFUND.out_refund_no,
    })
    expect(query).toMatchObject({ out_trade_no: NO, total_fee: 101 })
    expect(query.refunds).toEqual([
      expect.objectContaining({
        out_refund_no: REFUND.out_refund_no,
        refund_fee: 30,
        refund_status: 'SUCCESS',
        success_time: '2026-01-02 10:00:00',
        refund_recv_accout: '支付用户零钱',
      }),
    ])
  })

  it('refundquery of an unknown out_refund_no is REFUNDNOTEXIST (404)', async () => {
    route(
      V3_HOST,
      standIn({
        'GET /v3/refund/domestic/refunds/*': () => ({
          status: 404,
          json: { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' },
        }),
      }).handler,
    )
    const error = await caught(client().call('/pay/refundquery', { out_refund_no: 'RF-none' }))
    expect(error.failure).toMatchObject({ kind: 'wechat', errCode: 'REFUNDNOTEXIST' })
  })

  it('refundquery by out_trade_no is a RefundQueryByOrderError and asks WeChat nothing', async () => {
    const wx = standIn({})
    route(V3_HOST, wx.handler)
    const error = await caught(client().call('/pay/refundquery', { out_trade_no: NO }))
    expect(error).toBeInstanceOf(RefundQueryByOrderError)
    expect(error.failure.kind).toBe('params')
    expect(wx.seen).toHaveLength(0)
  })
})

/** Keeps the expected transport-failure lines of a test off the terminal. */
function quietly() {
  captureLogs()
}
