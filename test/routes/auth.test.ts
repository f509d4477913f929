/**
 * Every path under /v1/pay but WeChat's two callbacks needs a bearer token, a new one too; API_TOKENS
 * (scope pay) place orders and refund, OPS_TOKENS (scope ops) redeliver and reconcile.
 */
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { orderNo, post, sandboxPay } from '../support/api'
import { OPS_TOKEN, TOKEN } from '../support/bindings'
import { type Handler, PRIMARY, passThrough, route, SERVICE } from '../support/net'
import { placeOrder, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'

/** Counts the requests that reach WeChat (the sandbox), passing them through. */
function countUpstream(): string[] {
  const calls: string[] = []
  const counting: Handler = (request) => {
    calls.push(new URL(request.url).pathname)
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return calls
}

async function call(path: string, { method = 'POST', token }: { method?: string; token?: string } = {}) {
  const response = await exports.default.fetch(`${SERVICE}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, body: await response.json<{ error: { code: string; message: string } }>() }
}

const PAY = ['/v1/pay/params', '/v1/pay/unified', '/v1/pay/queryOrder', '/v1/pay/closeOrder', '/v1/pay/refund']
const OPS = ['/v1/pay/redeliver', '/v1/pay/reconciliation']

describe('the bearer token covers /v1/pay by default', () => {
  it.each([
    ['POST', '/v1/pay/transfer'],
    ['GET', '/v1/pay/balance'],
    ['POST', '/v1/pay/notify/other'],
    ['POST', '/v1/pay/refund/all'],
  ])('a path with no route (%s %s) answers 401 without a token, 404 with one', async (method, path) => {
    const anonymous = await call(path, { method })
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.error.code).toBe('wxPayError.unauthorized')
    const known = await call(path, { method, token: TOKEN })
    expect(known.status).toBe(404)
    expect(known.body.error.code).toBe('wxPayError.notFound')
  })

  it.each([...PAY, '/v1/pay/refundQuery', ...OPS])('%s without a token → 401', async (path) => {
    const reply = await call(path)
    expect(reply.status).toBe(401)
    expect(reply.body.error.message).toMatch(/^send Authorization: Bearer <token> with one of the (API|OPS)_TOKENS$/)
  })

  it("WeChat's two callbacks take no token: their signature (or encryption) is the authentication", async () => {
    const logs = captureLogs()
    for (const path of ['/v1/pay/notify', '/v1/pay/notify/refund']) {
      const response = await exports.default.fetch(`${SERVICE}${path}`, { method: 'POST', body: 'not xml' })
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('<return_code><![CDATA[FAIL]]></return_code>')
    }
    expect(logs()).toEqual([
      expect.objectContaining({ event: 'notify_rejected', reason: 'unparsable' }),
      expect.objectContaining({ event: 'refund_notify_rejected', reason: 'unparsable' }),
    ])
  })
})

describe('scopes', () => {
  it('an API token on redeliver → 403 naming the ops scope; nothing is relayed', async () => {
    const relays = shop()
    const order = await placeOrder()
    await sandboxPay(order.out_trade_no)
    expect(relays).toHaveLength(1)
    const reply = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no }, { token: TOKEN })
    expect(reply.status).toBe(403)
    expect(reply.body.error).toEqual({
      code: 'wxPayError.forbidden',
      message: '/v1/pay/redeliver needs the ops scope: a token from OPS_TOKENS, not API_TOKENS',
    })
    expect(relays).toHaveLength(1)
    const redelivered = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no }, { token: OPS_TOKEN })
    expect(redelivered.body.data).toEqual({ delivered: true, status: 200 })
    expect(relays).toHaveLength(2)
  })

  it('an API token on reconciliation → 403; no bill is downloaded', async () => {
    const upstream = countUpstream()
    const reply = await post('/v1/pay/reconciliation', { bill_date: '20261120', refresh: '1' }, { token: TOKEN })
    expect(reply.status).toBe(403)
    expect(reply.body.error.message).toBe(
      '/v1/pay/reconciliation needs the ops scope: a token from OPS_TOKENS, not API_TOKENS',
    )
    expect(upstream).toEqual([])
  })

  it('the scope holds under another spelling of the path', async () => {
    const reply = await call('/v1/pay/%72edeliver', { token: TOKEN })
    expect(reply.status).toBe(403)
    expect(reply.body.error.code).toBe('wxPayError.forbidden')
  })

  it.each(PAY)('an ops token on %s → 403 naming the pay scope; nothing reaches WeChat', async (path) => {
    const upstream = countUpstream()
    const reply = await call(path, { token: OPS_TOKEN })
    expect(reply.status).toBe(403)
    expect(reply.body.error).toEqual({
      code: 'wxPayError.forbidden',
      message: `${path} needs the pay scope: a token from API_TOKENS, not OPS_TOKENS`,
    })
    expect(upstream).toEqual([])
  })

  it('accepts every token in OPS_TOKENS, so they can be rotated', async () => {
    for (const token of String(env.OPS_TOKENS).split(',')) {
      const reply = await post('/v1/pay/redeliver', { out_trade_no: orderNo() }, { token })
      expect(reply.status).toBe(404)
      expect(reply.body.error.code).toBe('ORDERNOTEXIST')
    }
  })
})

describe('a deployment without OPS_TOKENS', () => {
  const unset = { env: { OPS_TOKENS: '' } }

  it('takes API tokens on the ops routes and logs a warning each time', async () => {
    const logs = captureLogs()
    const redeliver = await post('/v1/pay/redeliver', { out_trade_no: orderNo() }, { ...unset, token: TOKEN })
    expect(redeliver.status).toBe(404)
    const report = await post('/v1/pay/reconciliation', { bill_date: '20261121' }, { ...unset, token: TOKEN })
    expect(report.status).toBe(200)
    const warnings = logs().filter((line) => (line as { event?: string }).event === 'ops_scope_fallback')
    expect(warnings).toEqual(
      OPS.map((path) => ({
        event: 'ops_scope_fallback',
        path,
        message: 'OPS_TOKENS is not set, so an API token was accepted here: set OPS_TOKENS (README "Scopes")',
      })),
    )
  })

  it('still refuses an unknown token, saying which list it needs', async () => {
    const reply = await post('/v1/pay/redeliver', { out_trade_no: orderNo() }, { ...unset, token: 'not-a-token' })
    expect(reply.status).toBe(401)
    expect(reply.body.error.message).toBe('the bearer token is not one of the API_TOKENS (OPS_TOKENS is not set)')
  })
})

describe('OPS_TOKENS is checked like API_TOKENS', () => {
  it.each([
    ['only separators', ' , ', 'OPS_TOKENS must be comma-separated bearer tokens (`wrangler secret put OPS_TOKENS`)'],
    [
      'a token of API_TOKENS',
      `ops-only-token,${TOKEN}`,
      'OPS_TOKENS must not repeat a token of API_TOKENS: give operators their own',
    ],
  ])('%s → 500 wxPayError.config naming it, never its value', async (_case, value, message) => {
    const logs = captureLogs()
    const reply = await post('/v1/pay/queryOrder', { out_trade_no: orderNo() }, { env: { OPS_TOKENS: value } })
    expect(reply.status).toBe(500)
    expect(reply.body.error).toEqual({ code: 'wxPayError.config', message })
    expect(JSON.stringify(logs())).not.toContain('ops-only-token')
  })
})
