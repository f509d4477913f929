/**
 * One writer per order: requests that overlap in production are fired at once here, and what
 * WeChat (the sandbox) and the shop received is counted.
 */
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/wechat/sign'
import { jsapiOrder, post } from '../support/api'
import { TOKEN } from '../support/bindings'
import { ledgerRecord, snapshot, snapshotCaughtUp } from '../support/ledger'
import { type Handler, PRIMARY, passThrough, route, SERVICE } from '../support/net'
import { deliver, notification, type PlacedOrder, placeOrder, SUCCESS_XML, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { PUBLIC_KEY_ID } from '../support/v3-keys'
import { signed } from '../support/v3-standin'
import { V3 } from '../support/version'
import { APPID, MCH_ID, successReply } from '../support/wechat'

/** Counts the unifiedorder calls that reach WeChat, passing them through to the sandbox. */
/** unifiedorder (v2), or an order placed at /v3/pay/transactions/{jsapi,native,app,h5} (v3). */
function isPlacement(request: Request): boolean {
  const path = new URL(request.url).pathname
  return V3
    ? request.method === 'POST' && /\/v3\/pay\/transactions\/(jsapi|native|app|h5)$/.test(path)
    : path.endsWith('/pay/unifiedorder')
}

function countPlacements(): string[] {
  const calls: string[] = []
  const counting: Handler = async (request) => {
    const path = new URL(request.url).pathname
    if (isPlacement(request)) calls.push(path)
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return calls
}

/** Writes the KV record the previous version (schema v1) kept for an unpaid JSAPI order. */
async function putV1Unpaid(order: Record<string, string | number>, fields: { prepay_expires_at: string }) {
  const no = order.out_trade_no as string
  // v1 fingerprints: SHA-256 of the sorted unifiedorder fields (the service's own notify_url among them) + the shop's URL.
  const sent: Record<string, string> = {
    appid: APPID,
    body: String(order.body),
    mch_id: MCH_ID,
    notify_url: `${SERVICE}/v1/pay/notify`,
    openid: String(order.openid),
    out_trade_no: no,
    sign_type: 'HMAC-SHA256',
    spbill_create_ip: String(order.spbill_create_ip),
    total_fee: String(order.total_fee),
    trade_type: 'JSAPI',
  }
  const canonical = Object.keys(sent)
    .sort()
    .map((name) => `${name}=${sent[name]}`)
    .concat(`shop_notify_url=${order.notify_url}`)
    .join('\n')
  const now = new Date().toISOString()
  await env.ORDERS.put(
    `order:${no}`,
    JSON.stringify({
      v: 1,
      out_trade_no: no,
      trade_type: 'JSAPI',
      body: order.body,
      total_fee: order.total_fee,
      openid: order.openid,
      notify_url: order.notify_url,
      fingerprint: await sha256Hex(canonical),
      prepay_id: 'wx_placed_by_v1',
      trade_state: 'NOTPAY',
      created_at: now,
      updated_at: now,
      ...fields,
    }),
  )
}

const times = <T>(n: number, make: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => make(i)))

describe('notifications for one order, all at once', () => {
  it('20 identical notifications while the shop takes 300 ms → one relay, every copy acknowledged', async () => {
    const received = shop(200, { delayMs: 300 })
    const order = await placeOrder()
    const message = await notification(order)
    const replies = await times(20, () => deliver(message))
    expect(replies.map((r) => r.text)).toEqual(Array(20).fill(SUCCESS_XML))
    expect(received).toHaveLength(1)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      transaction_id: message.transaction_id,
      relayed_at: expect.any(String),
    })
  })

  it('20 notifications with 20 different transaction_ids → one relay, one SUCCESS; the first recorded is the only one', async () => {
    const logs = captureLogs()
    const received = shop(200, { delayMs: 50 })
    const order = await placeOrder()
    const messages = await times(20, () => notification(order))
    const replies = await times(20, (i) => deliver(messages[i] as Record<string, string>))
    const accepted = replies.flatMap((r, i) => (r.text === SUCCESS_XML ? [messages[i]?.transaction_id] : []))
    expect(accepted).toHaveLength(1)
    expect(received).toHaveLength(1)
    expect(JSON.parse(received[0]?.body as string).data.transaction_id).toBe(accepted[0])
    expect((await ledgerRecord(order.out_trade_no))?.transaction_id).toBe(accepted[0])
    const refused = logs().filter((line) => (line as { reason?: string }).reason === 'transaction_mismatch')
    expect(refused).toHaveLength(19)
  })
})

describe('a close or a query racing a payment', () => {
  it('closeOrder racing the notification, 50 times: the payment and its relay always survive', async () => {
    for (let trial = 0; trial < 50; trial++) {
      const received = shop()
      const order = await placeOrder()
      const message = await notification(order)
      const [close, notified] = await Promise.all([
        post('/v1/pay/closeOrder', { out_trade_no: order.out_trade_no }),
        deliver(message),
      ])
      expect(notified.text).toBe(SUCCESS_XML)
      expect([200, 409]).toContain(close.status)
      expect(received).toHaveLength(1)
      expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
        trade_state: 'SUCCESS',
        transaction_id: message.transaction_id,
        relayed_at: expect.any(String),
      })
    }
  })

  it('queryOrder racing the notification, 50 times: the payment and its relay flag always survive', async () => {
    for (let trial = 0; trial < 50; trial++) {
      const received = shop()
      const order = await placeOrder()
      const message = await notification(order)
      // The sandbox never saw this payment, so the racing query reports NOTPAY: stale by design.
      const [query, notified] = await Promise.all([
        post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no }),
        deliver(message),
      ])
      expect(query.status).toBe(200)
      expect(notified.text).toBe(SUCCESS_XML)
      expect(received).toHaveLength(1)
      expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
        trade_state: 'SUCCESS',
        relayed_at: expect.any(String),
      })
      // A duplicate after the race relays nothing more.
      expect((await deliver(message)).text).toBe(SUCCESS_XML)
      expect(received).toHaveLength(1)
    }
  })
})

describe('placements of one out_trade_no, all at once', () => {
  it('20 with different total_fee → one reaches WeChat, 19 × 409 OUT_TRADE_NO_USED', async () => {
    const calls = countPlacements()
    const base = jsapiOrder()
    const replies = await times(20, (i) => post('/v1/pay/params', { ...base, total_fee: 100 + i }))
    expect(calls).toHaveLength(1)
    const ok = replies.filter((r) => r.status === 200)
    expect(ok).toHaveLength(1)
    const refused = replies.filter((r) => r.status === 409)
    expect(refused).toHaveLength(19)
    for (const reply of refused) expect(reply.body.error.code).toBe('OUT_TRADE_NO_USED')
    const record = await ledgerRecord(base.out_trade_no as string)
    expect(ok[0]?.body.data.package).toBe(`prepay_id=${record?.prepay_id}`)
  })

  it('20 with different notify_url → one placed, 19 × 409: no shop is left unaware of its payment', async () => {
    const calls = countPlacements()
    const base = jsapiOrder()
    const replies = await times(20, (i) =>
      post('/v1/pay/params', { ...base, notify_url: `https://shop.test/paid/${i}` }),
    )
    expect(calls).toHaveLength(1)
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1)
    expect(replies.filter((r) => r.status === 409)).toHaveLength(19)
  })

  it('20 identical → one reaches WeChat, all 20 get the same prepay_id', async () => {
    const calls = countPlacements()
    const base = jsapiOrder()
    const replies = await times(20, () => post('/v1/pay/params', base))
    expect(calls).toHaveLength(1)
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(new Set(replies.map((r) => r.body.data.package)).size).toBe(1)
  })
})

describe('the ledger and its KV snapshot', () => {
  it('a v1 record already in KV is adopted on first use: its payment is not taken twice, nor is it lost', async () => {
    const logs = captureLogs()
    const received = shop()
    const order = jsapiOrder()
    const no = order.out_trade_no as string
    const v1 = {
      v: 1,
      out_trade_no: no,
      trade_type: 'JSAPI',
      body: order.body,
      total_fee: 101,
      openid: order.openid,
      notify_url: 'https://shop.test/paid',
      fingerprint: 'f'.repeat(64),
      prepay_id: 'wx_old',
      prepay_expires_at: new Date(Date.now() + 3600_000).toISOString(),
      trade_state: 'SUCCESS',
      transaction_id: '4200000000000000000000000001',
      time_end: '20261127131540',
      cash_fee: 101,
      bank_type: 'CFT',
      relayed_at: '2026-11-27T05:15:41.000Z',
      created_at: '2026-11-27T05:10:00.000Z',
      updated_at: '2026-11-27T05:15:41.000Z',
    }
    await env.ORDERS.put(`order:${no}`, JSON.stringify(v1))
    const duplicate = await notification(order as never, { fields: { transaction_id: v1.transaction_id } })
    expect((await deliver(duplicate)).text).toBe(SUCCESS_XML)
    expect(received).toHaveLength(0)
    const other = await notification(order as never)
    expect((await deliver(other)).text).toContain('FAIL')
    expect(await ledgerRecord(no)).toMatchObject({
      v: 2,
      trade_state: 'SUCCESS',
      transaction_id: v1.transaction_id,
      relayed_at: v1.relayed_at,
      adopted_at: expect.any(String),
    })
    // v1 fingerprints differ from today's when hashed from other fields; either way, no second placement.
    const placed = await post('/v1/pay/params', order)
    expect(placed.status).toBe(409)
    expect(logs()).toContainEqual({ event: 'record_adopted', out_trade_no: no, trade_state: 'SUCCESS' })
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected', reason: 'transaction_mismatch' }))
  })

  it('an unpaid v1 record placed by the previous version is answered from its prepay_id, without WeChat', async () => {
    const calls = countPlacements()
    const order = jsapiOrder()
    await putV1Unpaid(order, { prepay_expires_at: new Date(Date.now() + 3600_000).toISOString() })
    const reply = await post('/v1/pay/params', order)
    expect(reply.status).toBe(200)
    expect(reply.body.data.package).toBe('prepay_id=wx_placed_by_v1')
    expect(calls).toEqual([])
    expect((await post('/v1/pay/params', { ...order, total_fee: 102 })).body.error.code).toBe('OUT_TRADE_NO_USED')
  })

  it('a re-placement (prepay_id expired) that races the payment gives no new prepay_id to a paid order', async () => {
    const received = shop()
    const order = jsapiOrder()
    await putV1Unpaid(order, { prepay_expires_at: new Date(Date.now() - 1000).toISOString() })
    const placed = order as unknown as PlacedOrder
    // While WeChat is asked for a new prepay_id, the payer's payment is notified.
    route(PRIMARY, async (request) => {
      if (isPlacement(request)) {
        expect((await deliver(await notification(placed))).text).toBe(SUCCESS_XML)
        return V3
          ? signed({ status: 200, json: { prepay_id: 'wx_fresh_after_payment' } }, PUBLIC_KEY_ID)
          : successReply({ trade_type: 'JSAPI', prepay_id: 'wx_fresh_after_payment' })
      }
      return passThrough(request)
    })
    const reply = await post('/v1/pay/params', order)
    expect(reply.status).toBe(409)
    expect(reply.body.error.code).toBe('ORDERPAID')
    expect(received).toHaveLength(1)
    expect(await ledgerRecord(placed.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      prepay_id: 'wx_placed_by_v1',
    })
  })

  it('the snapshot in KV follows the ledger, with list() metadata', async () => {
    shop()
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    // Written in the background, at most once a second: two changes within a second are coalesced.
    await snapshotCaughtUp(order.out_trade_no)
    const { value, metadata } = await snapshot(order.out_trade_no)
    expect(value).toEqual(JSON.parse(JSON.stringify(await ledgerRecord(order.out_trade_no))))
    expect(metadata).toMatchObject({ trade_state: 'SUCCESS', total_fee: 101, relayed: true, relay_failed: false })
    const listed = await env.ORDERS.list({ prefix: `order:${order.out_trade_no}` })
    expect(listed.keys[0]?.metadata).toMatchObject({ trade_state: 'SUCCESS', relayed: true })
  })
})

describe('the fingerprint', () => {
  it('does not depend on the hostname the request came in on: the same order by another name is the same order', async () => {
    const calls = countPlacements()
    const order = jsapiOrder()
    const first = await post('/v1/pay/params', order)
    const body = new URLSearchParams(Object.entries(order).map(([k, v]) => [k, String(v)]))
    const other = await exports.default.fetch(
      new Request('http://pay-internal.test/v1/pay/params', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }),
    )
    expect(other.status).toBe(200)
    const data = (await other.json<{ data: { package: string } }>()).data
    expect(data.package).toBe(first.body.data.package)
    expect(calls).toHaveLength(1)
  })
})

describe('notify_url', () => {
  it("on the service's own origin is refused before WeChat (a relay would loop back into the service)", async () => {
    const calls = countPlacements()
    const reply = await post('/v1/pay/params', jsapiOrder({ notify_url: `${SERVICE}/v1/pay/notify` }))
    expect(reply.status).toBe(400)
    expect(reply.body.error).toEqual({
      code: 'wxPayError.params',
      message:
        "notify_url: must be your shop's backend, not this service: service.test is this service's host, under any letter case, trailing dot or port",
    })
    expect(calls).toEqual([])
  })
})

describe('relays are only delivered to a 2xx', () => {
  it('a shop answering 302 is not delivered: WeChat hears FAIL and the redirect is not followed', async () => {
    const logs = captureLogs()
    const followed: string[] = []
    route('shop.test', () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.test/x' } }))
    route('elsewhere.test', (request) => {
      followed.push(request.method)
      return new Response('ok')
    })
    const order = await placeOrder()
    const reply = await deliver(await notification(order))
    expect(reply.text).toContain('FAIL')
    expect(followed).toEqual([])
    const record = await ledgerRecord(order.out_trade_no)
    expect(record).toMatchObject({ trade_state: 'SUCCESS', relay_error: expect.stringContaining('302') })
    expect(record).not.toHaveProperty('relayed_at')
    expect(logs()).toContainEqual(
      expect.objectContaining({
        event: 'notify_rejected',
        reason: 'relay_failed',
        error: expect.stringContaining('302'),
      }),
    )
  })
})
