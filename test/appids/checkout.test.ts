/** The sandbox checkout under the merchant's second appid: the page, its shop backend and the stand-in pay sheet. */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { sign, verify } from '../../src/wechat/sign'
import { APPID, SECOND_APPID } from '../support/bindings'
import { ledgerRecord } from '../support/ledger'
import { KEY } from '../support/wechat'

const SANDBOX = 'http://service.test/sandbox'

async function call(path: string, body?: unknown) {
  const init = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }
  const response = await exports.default.fetch(
    new Request(`${SANDBOX}${path}`, { ...init, headers: { 'content-type': 'application/json' } }),
  )
  const text = await response.text()
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the sandbox answers
  return { status: response.status, text, json: (text.startsWith('{') ? JSON.parse(text) : {}) as any }
}

describe('the checkout under the second appid', () => {
  it.each(['/checkout', '/checkout/native'])('GET %s links a checkout per appid', async (path) => {
    const page = await call(path)
    expect(page.text).toContain(`<a href="/sandbox${path}">${APPID}</a>`)
    expect(page.text).toContain(`<a href="/sandbox${path}?appid=${SECOND_APPID}">${SECOND_APPID}</a>`)
    // The page sends the appid it was opened with to its shop backend.
    expect(page.text).toContain("new URLSearchParams(location.search).get('appid')")
  })

  it('places, signs and pays under the appid the page asked for', async () => {
    const placed = await call('/shop/orders', { quantity: 2, appid: SECOND_APPID })
    expect(placed.status).toBe(200)
    const { out_trade_no, params } = placed.json.data
    expect(params.appId).toBe(SECOND_APPID)
    const { paySign, ...fields } = params
    expect(await verify({ ...fields, sign: paySign }, KEY, params.signType)).toBe(true)
    expect((await ledgerRecord(out_trade_no))?.appid).toBe(SECOND_APPID)
    expect((await call('/bridge/pay', params)).json).toEqual({ data: { out_trade_no, paid: true } })
    expect((await call(`/shop/orders/${out_trade_no}`)).json.data).toMatchObject({ paid: true, relays: 1 })
  })

  it('the stand-in pay sheet refuses paySign made for the merchant’s other appid, and pays nothing', async () => {
    const placed = await call('/shop/orders', { quantity: 1, appid: SECOND_APPID })
    const { paySign: _, ...params } = placed.json.data.params
    const other = { ...params, appId: APPID }
    const signed = { ...other, paySign: await sign(other, KEY, 'HMAC-SHA256') }
    for (const path of ['/bridge/check', '/bridge/pay']) {
      const reply = await call(path, signed)
      expect(reply.status).toBe(400)
      expect(reply.json.error.message).toBe(`appId ${APPID} is not the appid the order was placed under`)
    }
    const { out_trade_no } = placed.json.data
    expect((await call(`/shop/orders/${out_trade_no}`)).json.data).toMatchObject({ paid: false, relays: 0 })
  })

  it('passes on the service’s refusal of an appid the merchant does not have', async () => {
    const placed = await call('/shop/orders', { quantity: 1, appid: 'wx0000000000000000' })
    expect(placed.status).toBe(400)
    expect(placed.json.error.message).toMatch(/^appid: must be one of the merchant's appids/)
  })
})
