/**
 * /v1/pay/notify and /v1/pay/notify/refund under WXPAY_API_VERSION=v3 (runs in the workerd-v3
 * project only): WeChat's signed JSON, verified before anything is read, then the same ledger path
 * as v2 — and v2 XML still taken for orders placed before the switch (issue 16 §5).
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { post, sandboxPay } from '../support/api'
import { ledgerRecord } from '../support/ledger'
import { SERVICE } from '../support/net'
import {
  deliver,
  type PlacedOrder,
  placeOrder,
  SUCCESS_XML,
  shop,
  transactionId,
  notification as v2Notification,
} from '../support/payments'
import { captureLogs } from '../support/secrets'
import { notification, type Signing } from '../support/v3-standin'
import { APPID, MCH_ID } from '../support/wechat'

/** The decrypted TRANSACTION.SUCCESS resource for `order` (v3 reference §5.1). */
function transaction(order: PlacedOrder, overrides: Record<string, unknown> = {}) {
  return {
    appid: APPID,
    mchid: MCH_ID,
    out_trade_no: order.out_trade_no,
    transaction_id: transactionId(),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2026-12-06T14:10:57+08:00',
    payer: { openid: order.openid },
    amount: { total: order.total_fee, payer_total: order.total_fee, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  }
}

async function deliverV3(message: { headers: Headers; body: Uint8Array }, path = '/v1/pay/notify') {
  const headers = new Headers(message.headers)
  headers.set('content-type', 'application/json')
  const response = await exports.default.fetch(
    new Request(`${SERVICE}${path}`, { method: 'POST', headers, body: message.body }),
  )
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : null }
}

describe('POST /v1/pay/notify under v3', () => {
  it('a verified TRANSACTION.SUCCESS is recorded and relayed once in the v2 shape (time_end yyyyMMddHHmmss); 204', async () => {
    const relays = shop()
    const order = await placeOrder()
    const plain = transaction(order)
    const message = await notification(plain)
    const replies = await Promise.all(Array.from({ length: 5 }, () => deliverV3(message)))
    expect(replies.map((r) => r.status)).toEqual([204, 204, 204, 204, 204])
    expect(relays).toHaveLength(1)
    expect(JSON.parse(relays[0]?.body ?? '')).toMatchObject({
      type: 'payment',
      data: {
        out_trade_no: order.out_trade_no,
        transaction_id: plain.transaction_id,
        trade_state: 'SUCCESS',
        total_fee: order.total_fee,
        time_end: '20261206141057',
      },
    })
  })

  it('a payment through the sandbox: v3 notification relayed, queryOrder answers time_end in yyyyMMddHHmmss', async () => {
    const relays = shop()
    const order = await placeOrder()
    await sandboxPay(order.out_trade_no)
    expect(relays).toHaveLength(1)
    const query = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no })
    expect(query.body.data).toMatchObject({ trade_state: 'SUCCESS', time_end: expect.stringMatching(/^\d{14}$/) })
  })

  it.each<[Signing]>([['wrong_key'], ['stale'], ['probe'], ['unknown_serial'], ['tampered']])(
    'a notification signed %s → 401 FAIL, nothing recorded or relayed',
    async (signing) => {
      const logs = captureLogs()
      const relays = shop()
      const order = await placeOrder()
      const reply = await deliverV3(await notification(transaction(order), { signing }))
      expect(reply.status).toBe(401)
      expect(reply.json).toMatchObject({ code: 'FAIL' })
      expect(relays).toHaveLength(0)
      expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ trade_state: 'NOTPAY' })
      expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected' }))
    },
  )

  it('JSON without the signature headers is refused as unsigned (401 FAIL), not read as v2 XML', async () => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder()
    const message = await notification(transaction(order))
    const reply = await deliverV3({ headers: new Headers(), body: message.body })
    expect(reply.status).toBe(401)
    expect(reply.json).toMatchObject({ code: 'FAIL' })
    expect(relays).toHaveLength(0)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ trade_state: 'NOTPAY' })
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected', reason: 'unsigned' }))
  })

  it.each([
    ['a flipped ciphertext bit', { spoil: (c: string) => `${c[0] === 'A' ? 'B' : 'A'}${c.slice(1)}` }, {}, 400],
    ['another APIv3 key', { apiV3Key: 'OtherAPIv3Key0123456789abcdefABC' }, {}, 400],
    ['another amount', {}, { amount: { total: 1, payer_total: 1, currency: 'CNY' } }, 500],
    ['another currency', {}, { amount: { total: 101, payer_total: 101, currency: 'USD' } }, 400],
    ['another merchant', {}, { mchid: '1900000109' }, 400],
  ] as const)('%s → FAIL, nothing recorded or relayed', async (_case, options, change, status) => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder()
    const reply = await deliverV3(await notification(transaction(order, change), options))
    expect(reply.status).toBe(status)
    expect(relays).toHaveLength(0)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ trade_state: 'NOTPAY' })
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected' }))
  })

  it('a verified transaction that is not SUCCESS is acknowledged and moves nothing', async () => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder()
    const reply = await deliverV3(await notification(transaction(order, { trade_state: 'PAYERROR' })))
    expect(reply.status).toBe(204)
    expect(relays).toHaveLength(0)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ trade_state: 'NOTPAY' })
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'notify_result_fail', out_trade_no: order.out_trade_no }),
    )
  })

  it('still takes v2 XML while WXPAY_API_KEY is set: an order placed before the switch loses nothing', async () => {
    const relays = shop()
    const order = await placeOrder()
    const reply = await deliver(await v2Notification(order))
    expect(reply).toMatchObject({ status: 200, text: SUCCESS_XML })
    expect(relays).toHaveLength(1)
  })
})
