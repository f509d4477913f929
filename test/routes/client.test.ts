/**
 * Hono's typed client (`hc<AppType>`) against the service, as a TypeScript shop would call it: the
 * request types come from the routes' validators, so a wrong field is a compile error (the
 * `@ts-expect-error` lines fail `tsc` if the types stop flowing).
 */
import { exports } from 'cloudflare:workers'
import { hc } from 'hono/client'
import { describe, expect, it } from 'vitest'
import type { AppType } from '../../src/app'
import { orderNo, sandboxPay } from '../support/api'
import { TOKEN } from '../support/bindings'
import { SERVICE } from '../support/net'
import { shop } from '../support/payments'

const client = hc<AppType>(SERVICE, {
  headers: { authorization: `Bearer ${TOKEN}` },
  fetch: (input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
})

const order = (out_trade_no: string) => ({
  body: '测试商店-商品',
  out_trade_no,
  total_fee: '100',
  spbill_create_ip: '14.23.150.211',
  notify_url: 'https://shop.test/paid',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
})

describe('hc<AppType>: the typed client', () => {
  it('places, queries and refunds an order', async () => {
    const relays = shop()
    const out_trade_no = orderNo('C')

    const placed = await client.v1.pay.params.$post({ json: order(out_trade_no) })
    expect(placed.status).toBe(200)
    const { data: pay } = await placed.json()
    expect(pay.package).toMatch(/^prepay_id=wx/)
    expect(pay.signType).toBe('HMAC-SHA256')

    await sandboxPay(out_trade_no)
    expect(relays).toHaveLength(1)

    const queried = await client.v1.pay.queryOrder.$post({ json: { out_trade_no } })
    expect(queried.status).toBe(200)
    const { data: view } = await queried.json()
    expect(view).toMatchObject({ out_trade_no, trade_state: 'SUCCESS', total_fee: 100 })

    const out_refund_no = orderNo('R')
    const refunded = await client.v1.pay.refund.$post({ json: { out_trade_no, out_refund_no, refund_fee: '30' } })
    expect(refunded.status).toBe(200)
    expect(await refunded.json()).toEqual({
      data: expect.objectContaining({ out_trade_no, out_refund_no, refund_fee: 30, total_fee: 100 }),
    })
  })

  it('gets the service’s errors as they are, with the field and rule named', async () => {
    const reply = await client.v1.pay.params.$post({ json: { ...order(orderNo('C')), total_fee: '0' } })
    expect(reply.status).toBe(400)
    expect(await reply.json()).toEqual({
      error: { code: 'wxPayError.params', message: expect.stringMatching(/^total_fee: /) },
    })
  })

  it('types each route’s fields', () => {
    // Compile-time only: these requests are never sent.
    const typed = () => [
      // @ts-expect-error a required field missing
      client.v1.pay.queryOrder.$post({ json: {} }),
      // @ts-expect-error a field the route does not take
      client.v1.pay.queryOrder.$post({ json: { out_trade_no: 'x', colour: 'red' } }),
      // @ts-expect-error no such route
      client.v1.pay.transfer.$post({ json: {} }),
    ]
    expect(typeof typed).toBe('function')
  })
})
