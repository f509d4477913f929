/**
 * GET /openapi.json, and every /v1/pay route's replies — success and each kind of failure — checked
 * against the document (test/support/openapi.ts). test/node/openapi.test.ts validates the document itself.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { openapiDocument } from '../src/openapi/document'
import { jsapiOrder, orderNo, post, type Reply, sandboxPay } from './support/api'
import { TOKEN } from './support/bindings'
import { BACKUP, PRIMARY, route, SERVICE } from './support/net'
import { documentedReply, expectDocumented } from './support/openapi'
import { captureLogs } from './support/secrets'

async function call(path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await exports.default.fetch(new Request(`${SERVICE}${path}`, init))
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, body, headers: response.headers }
}

describe('GET /openapi.json', () => {
  it('serves the document without a token', async () => {
    const reply = await call('/openapi.json')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toContain('application/json')
    expect(reply.body).toEqual(openapiDocument({ server: SERVICE }))
    expect(reply.body.openapi).toBe('3.1.1')
  })
})

describe('replies match the document', () => {
  it('a reply the document does not describe is caught (the check is live)', () => {
    expect(documentedReply('/v1/pay/params', 418)).toBeUndefined()
    expect(() =>
      expectDocumented('/v1/pay/params', {
        status: 200,
        body: { data: { appId: 1 } },
        headers: new Headers({ 'content-type': 'application/json' }),
      }),
    ).toThrow()
  })

  it('params: 200, 400, 401, 405, 409, 413', async () => {
    const order = jsapiOrder()
    expectDocumented('/v1/pay/params', await post('/v1/pay/params', order))
    expectDocumented('/v1/pay/params', await post('/v1/pay/params', { ...order, total_fee: 102 }))
    expectDocumented('/v1/pay/params', await post('/v1/pay/params', { out_trade_no: orderNo() }))
    expectDocumented('/v1/pay/params', await post('/v1/pay/params', jsapiOrder(), { token: null }))
    expectDocumented('/v1/pay/params', await call('/v1/pay/params', { headers: { authorization: `Bearer ${TOKEN}` } }))
    expectDocumented('/v1/pay/params', await post('/v1/pay/params', jsapiOrder({ detail: 'x'.repeat(70_000) })))
  })

  it.each(['NATIVE', 'APP', 'MWEB', 'JSAPI'])('unified %s: 200', async (trade_type) => {
    const fields = jsapiOrder({ trade_type, scene_info: '{"h5_info":{"type":"Wap","wap_url":"https://shop.test"}}' })
    const reply = await post('/v1/pay/unified', fields)
    expect(reply.status).toBe(200)
    expectDocumented('/v1/pay/unified', reply)
  })

  it('queryOrder: 200 unpaid and paid; closeOrder: 200, then 409 ORDERPAID for a paid order', async () => {
    const order = jsapiOrder({ notify_url: `${SERVICE}/sandbox/merchant` })
    const no = String(order.out_trade_no)
    await post('/v1/pay/params', order)
    expectDocumented('/v1/pay/queryOrder', await post('/v1/pay/queryOrder', { out_trade_no: no }))
    expectDocumented('/v1/pay/closeOrder', await post('/v1/pay/closeOrder', { out_trade_no: orderNo() }))
    await sandboxPay(no)
    const paid = await post('/v1/pay/queryOrder', { out_trade_no: no })
    expect(paid.body.data.trade_state).toBe('SUCCESS')
    expectDocumented('/v1/pay/queryOrder', paid)
    const refused = await post('/v1/pay/closeOrder', { out_trade_no: no })
    expect(refused.status).toBe(409)
    expectDocumented('/v1/pay/closeOrder', refused)
  })

  it('502 upstream and 504 timeout', async () => {
    const logs = captureLogs()
    const page = () => new Response('<html>502 Bad Gateway</html>', { status: 502 })
    route(PRIMARY, page)
    route(BACKUP, page)
    const upstream = await post('/v1/pay/queryOrder', { out_trade_no: orderNo() })
    expect(upstream.status).toBe(502)
    expectDocumented('/v1/pay/queryOrder', upstream)
    const never = (request: Request) =>
      new Promise<Response>((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason)),
      )
    route(PRIMARY, never)
    route(BACKUP, never)
    const timeout = await post('/v1/pay/closeOrder', { out_trade_no: orderNo() }, { env: { WXPAY_TIMEOUT_MS: '50' } })
    expect(timeout.status).toBe(504)
    expectDocumented('/v1/pay/closeOrder', timeout)
    expect(logs()).toHaveLength(4)
  })

  it('500 config', async () => {
    const logs = captureLogs()
    const reply = await post('/v1/pay/unified', jsapiOrder(), { env: { WXPAY_API_KEY: 'short' } })
    expect(reply.status).toBe(500)
    expectDocumented('/v1/pay/unified', reply)
    expect(logs()).toEqual([expect.objectContaining({ event: 'request_failed', kind: 'config' })])
  })

  it('notify: 200 XML, 405', async () => {
    const logs = captureLogs()
    const reply = await call('/v1/pay/notify', { method: 'POST', body: '<xml><a>1</a></xml>' })
    expect(reply.status).toBe(200)
    expect(logs()).toEqual([{ event: 'notify_rejected', reason: 'bad_signature' }])
    expectDocumented('/v1/pay/notify', reply)
    expectDocumented('/v1/pay/notify', await call('/v1/pay/notify'))
  })
})
