/**
 * The checkout page's server side: the pages, the shop backend that keeps its token to itself, and
 * the stand-in bridge that checks paySign with the merchant key. test/node/checkout.browser.test.ts
 * drives the same in a real browser.
 */
import { createExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/dev'
import { sign } from '../../src/wechat/sign'
import { TEST_BINDINGS } from '../support/bindings'
import { SERVICE } from '../support/net'
import { KEY, SANDBOX } from './client'

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the document or the service holds
type Json = Record<string, any>

async function call(path: string, body?: unknown): Promise<{ status: number; text: string; json: Json; type: string }> {
  const init =
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  const response = await exports.default.fetch(new Request(`${SANDBOX}${path}`, init))
  const text = await response.text()
  let json: Json = {}
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: response.status, text, json, type: response.headers.get('content-type') ?? '' }
}

const TOKENS = TEST_BINDINGS.API_TOKENS.split(',')

async function jsapiOrder(quantity = 1) {
  const reply = await call('/shop/orders', { quantity })
  expect(reply.status).toBe(200)
  for (const token of TOKENS) expect(reply.text).not.toContain(token)
  return reply.json.data as { out_trade_no: string; total_fee: number; params: Record<string, string> }
}

describe('the checkout pages', () => {
  it.each(['/checkout', '/checkout/native'])(
    'GET %s is a small page with a labelled quantity and a status region',
    async (path) => {
      const page = await call(path)
      expect(page.status).toBe(200)
      expect(page.type).toContain('text/html')
      expect(page.text).toContain('<label for="quantity">')
      expect(page.text).toContain('role="status"')
      expect(page.text).toContain('name="viewport"')
      expect(page.text.length).toBeLessThan(12_000)
      for (const token of TOKENS) expect(page.text).not.toContain(token)
    },
  )

  it('GET /bridge.js defines WeixinJSBridge only where there is none', async () => {
    const script = await call('/bridge.js')
    expect(script.type).toContain('text/javascript')
    expect(script.text).toMatch(/^\(\(\) => \{\n {2}if \(window\.WeixinJSBridge\) return/)
    expect(script.text).not.toContain(KEY)
  })

  it('GET /reference renders every route of /openapi.json with nothing from another origin (works offline)', async () => {
    const page = await call('/reference')
    expect(page.status).toBe(200)
    expect(page.type).toContain('text/html')
    expect(page.text).toContain('href="/openapi.json"')
    const document = (await exports.default.fetch(new Request(`${SERVICE}/openapi.json`)).then((r) => r.json())) as Json
    for (const path of Object.keys(document.paths)) expect(page.text).toContain(`<code>POST ${path}</code></h2>`)
    // Each field with its rule, as the document states it.
    expect(page.text).toContain(
      '<td><code>total_fee</code></td><td>yes</td><td>must be a positive integer number of fen',
    )
    expect(page.text).not.toMatch(/<script|<link|<img|src=|@import|url\(/)
    for (const [, href] of page.text.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^[/#]/)
  })

  it('is not there when the sandbox is off (production)', async () => {
    const response = await worker.fetch(
      new Request(`${SANDBOX}/checkout`),
      { ...env, WXPAY_SANDBOX: undefined },
      createExecutionContext(),
    )
    expect(response.status).toBe(404)
  })
})

describe('the shop backend', () => {
  it('prices the cart itself and returns signed pay parameters, never its token', async () => {
    const order = await jsapiOrder(3)
    expect(order.total_fee).toBe(3)
    expect(order.params).toMatchObject({ appId: TEST_BINDINGS.WXPAY_APPID, signType: 'HMAC-SHA256' })
    expect(order.params.package).toMatch(/^prepay_id=wx/)
  })

  it.each([[{ quantity: 0 }], [{ quantity: 10 }], [{ quantity: 1.5 }], [{}], ['not an object']])(
    'refuses the cart %j',
    async (cart) => {
      const reply = await call('/shop/orders', cart)
      expect(reply.status).toBe(400)
      expect(reply.json.error).toEqual({
        code: 'wxPayError.params',
        message: 'quantity: must be a whole number from 1 to 9',
      })
    },
  )
})

describe('the stand-in bridge', () => {
  it('shows what it will charge, pays on confirm, and the shop receives exactly one relay', async () => {
    const order = await jsapiOrder(2)
    const check = await call('/bridge/check', order.params)
    expect(check.json).toEqual({
      data: { mch_id: TEST_BINDINGS.WXPAY_MCH_ID, body: 'Demo shop-T-shirt', total_fee: 2 },
    })
    expect((await call(`/shop/orders/${order.out_trade_no}`)).json.data).toEqual({
      out_trade_no: order.out_trade_no,
      paid: false,
      relays: 0,
    })
    const paid = await call('/bridge/pay', order.params)
    expect(paid.json).toEqual({ data: { out_trade_no: order.out_trade_no, paid: true } })
    expect((await call(`/shop/orders/${order.out_trade_no}`)).json.data).toEqual({
      out_trade_no: order.out_trade_no,
      paid: true,
      relays: 1,
    })
    // A paid order shows no second pay sheet.
    expect((await call('/bridge/check', order.params)).json.error.message).toBe('the order is SUCCESS')
  })

  const tamper: [string, (params: Record<string, string>) => Promise<Record<string, string>>, string][] = [
    [
      'a changed paySign',
      async (p) => ({ ...p, paySign: `${p.paySign?.[0] === 'A' ? 'B' : 'A'}${p.paySign?.slice(1)}` }),
      '支付验证签名失败',
    ],
    ['a changed timeStamp', async (p) => ({ ...p, timeStamp: '1' }), '支付验证签名失败'],
    [
      'a paySign made with another key',
      async ({ paySign: _, ...p }) => ({ ...p, paySign: await sign(p, 'k'.repeat(32), 'HMAC-SHA256') }),
      '支付验证签名失败',
    ],
    [
      'another appId, signed',
      async ({ paySign: _, ...p }) => {
        const fields = { ...p, appId: 'wx0000000000000000' }
        return { ...fields, paySign: await sign(fields, KEY, 'HMAC-SHA256') }
      },
      "appId wx0000000000000000 is not this merchant's appid",
    ],
    [
      'a prepay_id the sandbox never issued, signed',
      async ({ paySign: _, ...p }) => {
        const fields = { ...p, package: `prepay_id=wx${'0'.repeat(34)}` }
        return { ...fields, paySign: await sign(fields, KEY, 'HMAC-SHA256') }
      },
      'package names no prepay_id the sandbox issued',
    ],
  ]
  it.each(tamper)('refuses %s, and pays nothing', async (_, change, message) => {
    const order = await jsapiOrder()
    const params = await change(order.params)
    for (const path of ['/bridge/check', '/bridge/pay']) {
      const reply = await call(path, params)
      expect(reply.status).toBe(400)
      expect(reply.json.error.code).toBe('get_brand_wcpay_request:fail')
      expect(reply.json.error.message).toContain(message)
    }
    expect((await call(`/orders/${order.out_trade_no}`)).json.data.trade_state).toBe('NOTPAY')
  })

  it('pays a NATIVE order by scanning its code_url, which the shop shows as an SVG QR code', async () => {
    const reply = await call('/shop/orders', { quantity: 1, trade_type: 'NATIVE' })
    const order = reply.json.data as { out_trade_no: string; code_url: string; qr_svg: string }
    expect(order.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/)
    expect(order.qr_svg).toMatch(/^<svg[^>]*>/)
    expect((await call('/bridge/scan', { code_url: 'weixin://wxpay/bizpayurl?pr=nothing' })).status).toBe(404)
    expect((await call('/bridge/scan', { code_url: order.code_url })).json.data.paid).toBe(true)
    expect((await call(`/shop/orders/${order.out_trade_no}`)).json.data.relays).toBe(1)
  })
})
