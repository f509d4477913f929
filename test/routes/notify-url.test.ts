/**
 * A notify_url that reaches the service itself is refused before WeChat, however its host is spelled:
 * relays would loop back into the service.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { jsapiOrder, orderNo, post, sandboxPay } from '../support/api'
import { TOKEN } from '../support/bindings'
import { type Handler, PRIMARY, passThrough, route } from '../support/net'
import { placeOrder, shop } from '../support/payments'

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

const OWN = "service.test is this service's host, under any letter case, trailing dot or port"
const PUBLIC = "pay.example.com is this service's host, under any letter case, trailing dot or port"
const refusal = (rule: string) => `notify_url: must be your shop's backend, not this service: ${rule}`

describe('notify_url on the service itself, at placement', () => {
  it.each([
    ['as the request came in', 'http://service.test/v1/pay/notify'],
    ['in capitals', 'http://SERVICE.TEST/paid'],
    ['in mixed case', 'http://Service.Test/paid'],
    ['with a trailing dot', 'http://service.test./paid'],
    ['with two trailing dots', 'http://service.test../paid'],
    ['with the explicit default port', 'http://service.test:80/paid'],
    ['over https with its default port', 'https://service.test:443/paid'],
    ['over the other scheme', 'https://service.test/paid'],
    ['on another port', 'http://service.test:8080/paid'],
    ['with a percent-escaped dot', 'http://service%2Etest/paid'],
    ['all at once', 'https://SERVICE.Test.:443/v1/pay/notify'],
  ])('%s (%s) → 400 naming the rule, nothing sent', async (_case, notify_url) => {
    const calls = countUpstream()
    const reply = await post('/v1/pay/params', jsapiOrder({ notify_url }))
    expect(reply.status).toBe(400)
    expect(reply.body.error).toEqual({ code: 'wxPayError.params', message: refusal(OWN) })
    expect(calls).toEqual([])
  })

  it.each([
    ['as PUBLIC_URL has it', 'https://pay.example.com/paid'],
    ['in capitals with a trailing dot', 'https://PAY.EXAMPLE.COM./paid'],
    ['with the explicit default port', 'https://pay.example.com:443/paid'],
    ['over http', 'http://pay.example.com/paid'],
  ])("on PUBLIC_URL's host %s (%s) → 400, nothing sent", async (_case, notify_url) => {
    const calls = countUpstream()
    const reply = await post('/v1/pay/params', jsapiOrder({ notify_url }), {
      env: { PUBLIC_URL: 'https://pay.example.com' },
    })
    expect(reply.status).toBe(400)
    expect(reply.body.error).toEqual({ code: 'wxPayError.params', message: refusal(PUBLIC) })
    expect(calls).toEqual([])
  })

  it.each(['https://shop.test/paid', 'http://service.test.shop.test/paid', 'http://shop-service.test/paid'])(
    'another host (%s) is placed',
    async (notify_url) => {
      const reply = await post('/v1/pay/params', jsapiOrder({ notify_url }), {
        env: { PUBLIC_URL: 'https://pay.example.com' },
      })
      expect(reply.status).toBe(200)
    },
  )

  it('a service reached on an explicit port (local development) is only that port: a shop on another port is fine', async () => {
    const place = async (notify_url: string) => {
      const response = await exports.default.fetch(
        new Request('http://localhost:8787/v1/pay/params', {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(Object.entries(jsapiOrder({ notify_url })).map(([k, v]) => [k, String(v)])),
        }),
      )
      return { status: response.status, body: await response.json<{ error?: { message: string } }>() }
    }
    const rule = "localhost:8787 is this service's address, under any letter case or trailing dot"
    for (const notify_url of ['http://localhost:8787/paid', 'http://LOCALHOST.:8787/paid']) {
      const reply = await place(notify_url)
      expect(reply.status).toBe(400)
      expect(reply.body.error?.message).toBe(refusal(rule))
    }
    expect((await place('http://localhost:3000/paid')).status).toBe(200)
  })
})

describe('notify_url on the service itself, for a refund', () => {
  it('is refused before the number is claimed or WeChat is asked', async () => {
    shop()
    const order = await placeOrder({ total_fee: 100 })
    await sandboxPay(order.out_trade_no)
    const calls = countUpstream()
    const out_refund_no = orderNo('R')
    const fields = { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 10 }
    const reply = await post('/v1/pay/refund', { ...fields, notify_url: 'http://Service.Test.:80/refunded' })
    expect(reply.status).toBe(400)
    expect(reply.body.error.message).toBe(refusal(OWN))
    expect(calls).toEqual([])
    // The number was not taken: the same refund with a shop's notify_url goes through.
    expect((await post('/v1/pay/refund', { ...fields, notify_url: 'https://shop.test/refunded' })).status).toBe(200)
  })
})
