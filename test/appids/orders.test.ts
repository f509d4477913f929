/**
 * Several appids under one mch_id (WXPAY_APPID lists two here): an order placed under the second
 * appid is placed, signed, queried, closed and refunded under it, and WeChat sees that appid on
 * every call; an appid not configured, or an out_trade_no reused under another appid, never
 * reaches WeChat.
 */
import { describe, expect, it } from 'vitest'
import { verify } from '../../src/wechat/sign'
import { jsapiOrder, orderNo, post, sandboxPay } from '../support/api'
import { APPID, APPIDS, SECOND_APPID } from '../support/bindings'
import { ledgerRecord } from '../support/ledger'
import { PRIMARY, passThrough, route } from '../support/net'
import { shop } from '../support/payments'
import { completeRefund } from '../support/refunds'
import { KEY, MCH_ID, readRequest } from '../support/wechat'

/** Every call that reaches WeChat (the sandbox), as path and fields, passed through. */
function wechatCalls(): { path: string; fields: Record<string, string> }[] {
  const calls: { path: string; fields: Record<string, string> }[] = []
  route(PRIMARY, async (request) => {
    const path = new URL(request.url).pathname.replace(/^\/sandbox/, '')
    calls.push({ path, fields: await readRequest(request.clone()) })
    return passThrough(request)
  })
  return calls
}

const appidsSent = (calls: { fields: Record<string, string> }[]) => calls.map(({ fields }) => fields.appid)

describe('placing under one of the merchant’s appids', () => {
  it('signs the JSAPI parameters with the order’s appid and records it', async () => {
    const calls = wechatCalls()
    const order = jsapiOrder({ appid: SECOND_APPID })
    const { status, body } = await post('/v1/pay/params', order)
    expect(status).toBe(200)
    const { paySign, ...fields } = body.data
    expect(fields.appId).toBe(SECOND_APPID)
    expect(await verify({ ...fields, sign: paySign }, KEY, fields.signType)).toBe(true)
    expect(calls).toMatchObject([{ path: '/pay/unifiedorder', fields: { appid: SECOND_APPID, mch_id: MCH_ID } }])
    expect((await ledgerRecord(order.out_trade_no as string))?.appid).toBe(SECOND_APPID)
  })

  it('gives APP parameters with the order’s appid', async () => {
    const { openid: _, ...order } = jsapiOrder({ trade_type: 'APP', appid: SECOND_APPID })
    const { status, body } = await post('/v1/pay/unified', order, { json: true })
    expect(status).toBe(200)
    const { sign, ...app } = body.data.app
    expect(app).toMatchObject({ appid: SECOND_APPID, partnerid: MCH_ID, prepayid: body.data.prepay_id })
    expect(await verify({ ...app, sign }, KEY, 'HMAC-SHA256')).toBe(true)
  })

  it('places under the first appid when the request names none', async () => {
    const calls = wechatCalls()
    const order = jsapiOrder()
    const { body } = await post('/v1/pay/params', order)
    expect(body.data.appId).toBe(APPID)
    expect(appidsSent(calls)).toEqual([APPID])
    expect((await ledgerRecord(order.out_trade_no as string))?.appid).toBe(APPID)
  })

  it('refuses an appid the merchant does not have, before WeChat, listing the ones it has', async () => {
    const calls = wechatCalls()
    for (const path of ['/v1/pay/params', '/v1/pay/unified']) {
      const order = jsapiOrder({ appid: 'wx0000000000000000', trade_type: 'JSAPI' })
      if (path === '/v1/pay/params') delete order.trade_type
      const { status, body } = await post(path, order)
      expect(status).toBe(400)
      expect(body.error).toEqual({
        code: 'wxPayError.params',
        message: `appid: must be one of the merchant's appids (${APPIDS.join(', ')})`,
      })
      expect(await ledgerRecord(order.out_trade_no as string)).toBeNull()
    }
    const { status, body } = await post('/v1/pay/params', jsapiOrder({ appid: 'wx-not-an-appid' }))
    expect(status).toBe(400)
    expect(body.error.message).toMatch(/^appid: must be one of the appids in WXPAY_APPID/)
    expect(calls).toEqual([])
  })

  it('answers OUT_TRADE_NO_USED for the same out_trade_no under another appid, before WeChat', async () => {
    const order = jsapiOrder({ appid: SECOND_APPID })
    expect((await post('/v1/pay/params', order)).status).toBe(200)
    const calls = wechatCalls()
    for (const appid of [APPID, undefined]) {
      const again = { ...order, appid: appid ?? '' }
      const { status, body } = await post('/v1/pay/params', again)
      expect(status).toBe(409)
      expect(body.error.code).toBe('OUT_TRADE_NO_USED')
    }
    // The same order under its own appid is the same order: answered from the record.
    expect((await post('/v1/pay/params', order)).status).toBe(200)
    expect(calls).toEqual([])
  })
})

describe('one out_trade_no placed under both appids at once', () => {
  it('reaches WeChat once: one appid’s requests share the placement, the other’s are 409', async () => {
    const calls = wechatCalls()
    const order = jsapiOrder()
    const appids = [APPID, SECOND_APPID, APPID, SECOND_APPID, APPID, SECOND_APPID, APPID, SECOND_APPID]
    const replies = await Promise.all(appids.map((appid) => post('/v1/pay/params', { ...order, appid })))
    expect(calls.map(({ path }) => path)).toEqual(['/pay/unifiedorder'])
    const placed = calls[0]?.fields.appid
    replies.forEach(({ status, body }, i) => {
      if (appids[i] === placed) expect([status, body.data.appId]).toEqual([200, placed])
      else expect([status, body.error.code]).toEqual([409, 'OUT_TRADE_NO_USED'])
    })
    expect((await ledgerRecord(order.out_trade_no as string))?.appid).toBe(placed)
  })
})

describe('every call about an order names the order’s appid', () => {
  it('queries, refunds and asks about refunds under the second appid', async () => {
    const relays = shop()
    const order = jsapiOrder({ appid: SECOND_APPID, total_fee: 100 })
    const no = order.out_trade_no as string
    expect((await post('/v1/pay/params', order)).status).toBe(200)
    await sandboxPay(no)
    expect(relays).toHaveLength(1)
    const calls = wechatCalls()
    const query = await post('/v1/pay/queryOrder', { out_trade_no: no })
    expect(query.body.data.trade_state).toBe('SUCCESS')
    const refund = await post('/v1/pay/refund', { out_trade_no: no, out_refund_no: `${no}-r1`, refund_fee: 30 })
    expect(refund.status).toBe(200)
    // The refund notification carries the order's appid and is taken: the shop has the refund.
    await completeRefund(`${no}-r1`)
    expect(relays.map((relay) => JSON.parse(relay.body).type)).toEqual(['payment', 'refund'])
    const byNumber = await post('/v1/pay/refundQuery', { out_refund_no: `${no}-r1` })
    const byOrder = await post('/v1/pay/refundQuery', { out_trade_no: no })
    expect([byNumber.status, byOrder.status]).toEqual([200, 200])
    expect(calls.map(({ path }) => path)).toEqual([
      '/pay/orderquery',
      '/secapi/pay/refund',
      '/pay/refundquery',
      '/pay/refundquery',
      '/pay/refundquery',
    ])
    expect(new Set(appidsSent(calls))).toEqual(new Set([SECOND_APPID]))
  })

  it('closes under the order’s appid', async () => {
    const order = jsapiOrder({ appid: SECOND_APPID })
    expect((await post('/v1/pay/params', order)).status).toBe(200)
    const calls = wechatCalls()
    const { status, body } = await post('/v1/pay/closeOrder', { out_trade_no: order.out_trade_no as string })
    expect(status).toBe(200)
    expect(body.data.trade_state).toBe('CLOSED')
    expect(calls).toMatchObject([{ path: '/pay/closeorder', fields: { appid: SECOND_APPID } }])
  })

  it('queries an order this service never placed under the first appid', async () => {
    const calls = wechatCalls()
    const { status, body } = await post('/v1/pay/queryOrder', { out_trade_no: orderNo('unknown') })
    expect([status, body.error.code]).toEqual([404, 'ORDERNOTEXIST'])
    expect(appidsSent(calls)).toEqual([APPID])
  })
})
