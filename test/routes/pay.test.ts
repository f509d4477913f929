import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { sha256Hex, verify } from '../../src/wechat/sign'
import { call, order as sandboxOrder } from '../sandbox/client'
import { jsapiOrder, orderNo, post, sandboxPay } from '../support/api'
import { TOKEN } from '../support/bindings'
import { ledgerRecord, runAlarm } from '../support/ledger'
import { type Handler, PRIMARY, passThrough, route, SERVICE } from '../support/net'
import { shop } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { placePath, signedByMerchant, V3 } from '../support/version'
import { APPID, KEY, MCH_ID, readRequest } from '../support/wechat'

/** Counts what reaches WeChat (the sandbox) while passing it through. */
function countUpstream(): { calls: string[] } {
  const seen = { calls: [] as string[] }
  const counting: Handler = (request) => {
    seen.calls.push(new URL(request.url).pathname)
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return seen
}

describe('POST /v1/pay/params', () => {
  it('returns getBrandWCPayRequest parameters with a paySign over exactly its fields (v2: five; v3: four lines, RSA)', async () => {
    const upstream = countUpstream()
    const { status, body } = await post('/v1/pay/params', jsapiOrder())
    expect(status).toBe(200)
    const data = body.data
    expect(Object.keys(data).sort()).toEqual(['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp'])
    expect(data.appId).toBe(APPID)
    expect(data.signType).toBe(V3 ? 'RSA' : 'HMAC-SHA256')
    expect(data.timeStamp).toMatch(/^\d{10}$/)
    expect(data.package).toMatch(/^prepay_id=wx\w+$/)
    const { paySign, ...signed } = data
    const lines = [data.appId, data.timeStamp, data.nonceStr, data.package]
    expect(await signedByMerchant(paySign, { fields: signed }, { lines })).toBe(true)
    expect(upstream.calls).toEqual([placePath()])
  })

  // The v2 wire format and the fingerprint over it; v3's request body: test/wechat/v3 and test/sandbox/v3.
  it.skipIf(V3)(
    'sends WeChat a signed unifiedorder that points notify_url at the service and keeps the shop URL in the record',
    async () => {
      let sent: Record<string, string> = {}
      route(PRIMARY, async (request) => {
        sent = await readRequest(request.clone())
        return passThrough(request)
      })
      const order = jsapiOrder({ attach: '订单 #1 & more' })
      expect((await post('/v1/pay/params', order)).status).toBe(200)
      expect(await verify(sent, KEY, 'HMAC-SHA256')).toBe(true)
      expect(sent).toMatchObject({
        appid: APPID,
        mch_id: MCH_ID,
        sign_type: 'HMAC-SHA256',
        trade_type: 'JSAPI',
        total_fee: '101',
        notify_url: `${SERVICE}/v1/pay/notify`,
        attach: '订单 #1 & more',
      })
      const record = await ledgerRecord(order.out_trade_no as string)
      expect(record).toMatchObject({
        v: 2,
        out_trade_no: order.out_trade_no,
        total_fee: 101,
        notify_url: 'https://shop.test/paid',
        trade_state: 'NOTPAY',
        trade_type: 'JSAPI',
      })
      // What README's record table says it is: SHA-256 of every field sent but nonce_str, sign and the
      // service's notify_url, sorted by name as name=value lines, then shop_notify_url=.
      const { nonce_str, sign: _sign, notify_url, ...asked } = sent
      const canonical = Object.keys(asked)
        .sort()
        .map((name) => `${name}=${asked[name]}`)
        .concat('shop_notify_url=https://shop.test/paid')
        .join('\n')
      expect(nonce_str && notify_url).toBeTruthy()
      expect(record?.fingerprint).toBe(await sha256Hex(canonical))
    },
  )

  it('an out_trade_no of 5 characters: v2 places it; v3 (6–32) refuses it naming the rule, before WeChat', async () => {
    const upstream = countUpstream()
    const no = `${Date.now().toString(36).slice(-4)}A`
    const { status, body } = await post('/v1/pay/params', jsapiOrder({ out_trade_no: no }))
    if (!V3) {
      expect(status).toBe(200)
      return
    }
    expect(status).toBe(400)
    expect(body.error).toEqual({
      code: 'wxPayError.params',
      message: 'out_trade_no: must be 6–32 characters under WeChat Pay v3 (WXPAY_API_VERSION=v3)',
    })
    expect(upstream.calls).toEqual([])
    expect(await ledgerRecord(no)).toBeNull()
  })

  it('accepts the same fields as JSON', async () => {
    const { status, body } = await post('/v1/pay/params', jsapiOrder(), { json: true })
    expect(status).toBe(200)
    expect(body.data.package).toMatch(/^prepay_id=/)
  })

  it('answers the same order again from its record without calling WeChat', async () => {
    const order = jsapiOrder()
    const first = await post('/v1/pay/params', order)
    const upstream = countUpstream()
    const again = await post('/v1/pay/params', order)
    expect(again.status).toBe(200)
    expect(again.body.data.package).toBe(first.body.data.package)
    expect(upstream.calls).toEqual([])
  })

  it('refuses other parameters for a known out_trade_no with OUT_TRADE_NO_USED before reaching WeChat', async () => {
    const order = jsapiOrder()
    await post('/v1/pay/params', order)
    const upstream = countUpstream()
    const changes: Record<string, string | number>[] = [
      { total_fee: 102 },
      { body: 'other' },
      { notify_url: 'https://shop.test/other' },
    ]
    for (const change of changes) {
      const { status, body } = await post('/v1/pay/params', { ...order, ...change })
      expect(status).toBe(409)
      expect(body.error.code).toBe('OUT_TRADE_NO_USED')
    }
    expect(upstream.calls).toEqual([])
  })
})

describe('POST /v1/pay/unified', () => {
  it.each([
    ['NATIVE', { trade_type: 'NATIVE' }, 'code_url', /^weixin:\/\/wxpay\/bizpayurl\?pr=/],
    [
      'MWEB',
      { trade_type: 'MWEB', scene_info: '{"h5_info":{"type":"Wap","wap_url":"https://shop.test","wap_name":"Shop"}}' },
      'mweb_url',
      /^https:\/\/wx\.tenpay\.com\//,
    ],
  ])('places a %s order and returns its %s', async (_type, fields, key, pattern) => {
    const { openid: _, ...order } = jsapiOrder(fields)
    const { status, body } = await post('/v1/pay/unified', order)
    expect(status).toBe(200)
    expect(body.data.trade_type).toBe(fields.trade_type)
    // v3 answers NATIVE with code_url alone (v3 reference §6.3).
    if (V3 && fields.trade_type === 'NATIVE') expect(body.data).not.toHaveProperty('prepay_id')
    else expect(body.data.prepay_id).toMatch(/^wx/)
    expect(body.data[key]).toMatch(pattern)
  })

  it('returns signed APP parameters for trade_type APP', async () => {
    const { openid: _, ...order } = jsapiOrder({ trade_type: 'APP' })
    const { status, body } = await post('/v1/pay/unified', order)
    expect(status).toBe(200)
    const { sign: appSign, ...fields } = body.data.app
    expect(Object.keys(fields).sort()).toEqual(['appid', 'noncestr', 'package', 'partnerid', 'prepayid', 'timestamp'])
    expect(fields).toMatchObject({
      appid: APPID,
      partnerid: MCH_ID,
      prepayid: body.data.prepay_id,
      package: 'Sign=WXPay',
    })
    const lines = [fields.appid, fields.timestamp, fields.noncestr, fields.prepayid]
    expect(await signedByMerchant(appSign, { fields }, { lines })).toBe(true)
  })

  it('requires openid for JSAPI and scene_info for MWEB', async () => {
    const { openid: _, ...order } = jsapiOrder({ trade_type: 'JSAPI' })
    const jsapi = await post('/v1/pay/unified', order)
    expect(jsapi.status).toBe(400)
    expect(jsapi.body.error).toEqual({
      code: 'wxPayError.params',
      message: 'openid: is required when trade_type is JSAPI',
    })
    const mweb = await post('/v1/pay/unified', { ...order, trade_type: 'MWEB' })
    expect(mweb.body.error.message).toBe('scene_info: is required when trade_type is MWEB (h5_info JSON)')
  })
})

describe('the order lifecycle through the sandbox', () => {
  it('params → queryOrder NOTPAY → pay → queryOrder SUCCESS → closeOrder refused as ORDERPAID', async () => {
    const order = jsapiOrder()
    const no = order.out_trade_no as string
    expect((await post('/v1/pay/params', order)).status).toBe(200)

    const unpaid = await post('/v1/pay/queryOrder', { out_trade_no: no })
    expect(unpaid.status).toBe(200)
    expect(unpaid.body.data).toMatchObject({ out_trade_no: no, trade_state: 'NOTPAY', total_fee: 101 })
    for (const protocol of ['return_code', 'return_msg', 'result_code', 'sign', 'nonce_str', 'err_code']) {
      expect(unpaid.body.data).not.toHaveProperty(protocol)
    }

    const paid = await sandboxPay(no, { coupon_fee: '1' })
    const query = await post('/v1/pay/queryOrder', { out_trade_no: no })
    expect(query.body.data).toMatchObject({
      out_trade_no: no,
      trade_state: 'SUCCESS',
      transaction_id: paid.data.transaction_id,
      total_fee: 101,
      cash_fee: 100,
      coupons: [{ type: 'CASH', fee: 1 }],
    })
    expect(query.body.data).not.toHaveProperty('coupon_fee_0')
    const record = await ledgerRecord(no)
    expect(record).toMatchObject({ trade_state: 'SUCCESS', transaction_id: paid.data.transaction_id })

    const close = await post('/v1/pay/closeOrder', { out_trade_no: no })
    expect(close.status).toBe(409)
    expect(close.body.error.code).toBe('ORDERPAID')
    const again = await post('/v1/pay/params', order)
    expect(again.body.error.code).toBe('ORDERPAID')
  })

  it('a payment whose notifications never arrive is found by the self-check (orderquery) and relayed once', async () => {
    const relays = shop()
    const order = jsapiOrder()
    const no = order.out_trade_no as string
    expect((await post('/v1/pay/params', order)).status).toBe(200)
    // WeChat's notifications do not reach the service (as when it was down), for the whole test.
    route('service.test', () => new Response('down', { status: 503 }))
    const paid = await sandboxPay(no)
    expect(paid.data.notification.delivered).toBe(false)
    expect(relays).toHaveLength(0)
    captureLogs()
    expect(await runAlarm(no)).toBe(true)
    expect(relays).toHaveLength(1)
    expect(JSON.parse(relays[0]?.body ?? '')).toMatchObject({
      type: 'payment',
      data: { out_trade_no: no, transaction_id: paid.data.transaction_id, time_end: expect.stringMatching(/^\d{14}$/) },
    })
    expect(await ledgerRecord(no)).toMatchObject({ trade_state: 'SUCCESS', relayed_at: expect.any(String) })
  })

  it('closes an unpaid order, records CLOSED, and refuses to place or close it again', async () => {
    const order = jsapiOrder()
    const no = order.out_trade_no as string
    await post('/v1/pay/params', order)
    const close = await post('/v1/pay/closeOrder', { out_trade_no: no, transaction_id: '4200000000000000000000000000' })
    expect(close).toMatchObject({ status: 200, body: { data: { out_trade_no: no, trade_state: 'CLOSED' } } })
    expect(await ledgerRecord(no)).toMatchObject({ trade_state: 'CLOSED' })
    expect((await post('/v1/pay/closeOrder', { out_trade_no: no })).body.error.code).toBe('ORDERCLOSED')
    expect((await post('/v1/pay/queryOrder', { out_trade_no: no })).body.data.trade_state).toBe('CLOSED')
    const replace = await post('/v1/pay/params', order)
    expect(replace).toMatchObject({ status: 409, body: { error: { code: 'ORDERCLOSED' } } })
  })

  it.each(['/v1/pay/queryOrder', '/v1/pay/closeOrder'])(
    '%s reports an order WeChat does not know as ORDERNOTEXIST 404, naming the order before WeChat’s text',
    async (path) => {
      const no = orderNo()
      const { status, body } = await post(path, { out_trade_no: no })
      expect(status).toBe(404)
      expect(body.error.code).toBe('ORDERNOTEXIST')
      // The sandbox answers with WeChat's own err_code_des, kept after the order number.
      expect(body.error.message).toMatch(new RegExp(`^order ${no} does not exist at WeChat: \\S*订单[^\\s]*不存在$`))
    },
  )

  it('passes WeChat’s refusal through as 409 when WeChat knows the number with other parameters', async () => {
    const order = jsapiOrder()
    // Another system of the same merchant placed this out_trade_no with WeChat; this service never did.
    const elsewhere = sandboxOrder({ out_trade_no: order.out_trade_no as string, total_fee: '999' })
    expect((await call('/pay/unifiedorder', elsewhere)).result_code).toBe('SUCCESS')
    const { status, body } = await post('/v1/pay/params', order)
    expect(status).toBe(409)
    // v2 says INVALID_REQUEST (reference §3.2), v3 OUT_TRADE_NO_USED (v3 reference §7).
    expect(body.error.code).toBe(V3 ? 'OUT_TRADE_NO_USED' : 'INVALID_REQUEST')
  })
})

describe('authentication', () => {
  it.each([
    ['no header', null],
    ['a wrong token', 'not-a-token'],
  ])('refuses %s with 401 and never reaches WeChat', async (_case, token) => {
    const upstream = countUpstream()
    const { status, body } = await post('/v1/pay/params', jsapiOrder(), { token })
    expect(status).toBe(401)
    expect(body.error.code).toBe('wxPayError.unauthorized')
    expect(upstream.calls).toEqual([])
  })

  it('accepts every token in API_TOKENS, so tokens can be rotated', async () => {
    for (const token of String(env.API_TOKENS).split(',')) {
      expect((await post('/v1/pay/queryOrder', { out_trade_no: orderNo() }, { token })).status).toBe(404)
    }
    expect(TOKEN).toBeTruthy()
  })
})
