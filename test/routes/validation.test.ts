import { createExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { scopeOf } from '../../src/auth'
import worker from '../../src/dev'
import { jsapiOrder, orderNo, post } from '../support/api'
import { OPS_TOKEN, TOKEN } from '../support/bindings'
import { type Handler, PRIMARY, passThrough, route, SERVICE } from '../support/net'
import { captureLogs } from '../support/secrets'

function countUpstream(): string[] {
  const calls: string[] = []
  const counting: Handler = (request) => {
    calls.push(request.url)
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return calls
}

describe('invalid fields get wxPayError.params naming the field and never reach WeChat', () => {
  const FEN = 'total_fee: must be a positive integer number of fen, at most 15 digits (999999999999999)'
  const BILL_SAFE =
    'without a line break or a comma followed by a backtick (,`: they split the lines and values of WeChat’s daily bill)'
  it.each([
    ['total_fee', '12.5', FEN],
    ['total_fee', '0', FEN],
    ['total_fee', '-3', FEN],
    ['total_fee', 'abc', FEN],
    ['total_fee', '+5', FEN],
    ['total_fee', '1e3', FEN],
    ['total_fee', ' 5', FEN],
    ['total_fee', '9999999999999999', FEN],
    ['total_fee', '', 'total_fee: is required'],
    ['out_trade_no', 'a'.repeat(33), 'out_trade_no: must be 1–32 characters of A-Z a-z 0-9 _ - | *'],
    ['out_trade_no', 'order/1', 'out_trade_no: must be 1–32 characters of A-Z a-z 0-9 _ - | *'],
    ['body', '商'.repeat(129), `body: must be at most 128 characters, ${BILL_SAFE}`],
    ['body', 'T-shirt,`XL', `body: must be at most 128 characters, ${BILL_SAFE}`],
    ['body', 'T-shirt\nXL', `body: must be at most 128 characters, ${BILL_SAFE}`],
    ['body', '', 'body: is required'],
    ['attach', 'x'.repeat(128), `attach: must be at most 127 characters, ${BILL_SAFE}`],
    ['attach', 'a=1,`b=2', `attach: must be at most 127 characters, ${BILL_SAFE}`],
    ['openid', 'o'.repeat(129), "openid: must be the payer's openid (up to 128 of A-Z a-z 0-9 _ -)"],
    ['notify_url', 'ftp://shop.test/paid', 'notify_url: must be an http(s) URL of at most 256 characters'],
    [
      'notify_url',
      `https://shop.test/${'p'.repeat(240)}`,
      'notify_url: must be an http(s) URL of at most 256 characters',
    ],
    ['spbill_create_ip', '300.1.1.1', 'spbill_create_ip: must be an IPv4 or IPv6 address'],
    ['spbill_create_ip', 'localhost', 'spbill_create_ip: must be an IPv4 or IPv6 address'],
    ['time_expire', '20261399120000', 'time_expire: must be a Beijing time yyyyMMddHHmmss'],
    ['body', 'gift 🎁', 'body: must not contain emoji or other 4-byte UTF-8 characters (WeChat Pay v2 rejects them)'],
    ['body', 'line\r\nbreak', 'body: must not contain control characters such as \\r'],
    ['colour', 'red', 'colour: unknown field'],
  ])('%s = %j', async (field, value, message) => {
    const calls = countUpstream()
    const { status, body } = await post('/v1/pay/params', jsapiOrder({ [field]: value }))
    expect(status).toBe(400)
    expect(body).toEqual({ error: { code: 'wxPayError.params', message } })
    expect(calls).toEqual([])
  })

  it('names the limit of refund_fee too', async () => {
    const { status, body } = await post('/v1/pay/refund', {
      out_trade_no: orderNo(),
      out_refund_no: orderNo('R'),
      refund_fee: '1'.repeat(16),
    })
    expect(status).toBe(400)
    expect(body.error.message).toBe(
      'refund_fee: must be a positive integer number of fen, at most 15 digits (999999999999999)',
    )
  })

  it('accepts the boundaries: 128-character body, 32-character out_trade_no with | and *, IPv6', async () => {
    const order = jsapiOrder({
      body: '商'.repeat(128),
      out_trade_no: `${orderNo('B')}|*-_`.padEnd(32, 'x').slice(0, 32),
      spbill_create_ip: '2001:db8::1',
      attach: 'a'.repeat(127),
    })
    expect((await post('/v1/pay/params', order)).status).toBe(200)
  })

  it('accepts commas and backticks in body and attach, apart', async () => {
    const order = jsapiOrder({ body: 'T-shirt, XL `特价`', attach: '{"size":"XL","tags":"a,b"}`,' })
    expect((await post('/v1/pay/params', order)).status).toBe(200)
  })

  it('names every invalid field at once', async () => {
    const { body } = await post('/v1/pay/params', { out_trade_no: orderNo(), total_fee: 0 })
    expect(body.error.message.split('; ').sort()).toEqual([
      'body: is required',
      'notify_url: is required',
      'openid: is required',
      'spbill_create_ip: is required',
      'total_fee: must be a positive integer number of fen, at most 15 digits (999999999999999)',
    ])
  })

  it('refuses a repeated field and a body that is neither form nor JSON', async () => {
    const repeated = await exports.default.fetch(
      new Request(`${SERVICE}/v1/pay/queryOrder`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'out_trade_no=a&out_trade_no=b',
      }),
    )
    expect(repeated.status).toBe(400)
    expect(await repeated.json()).toEqual({
      error: { code: 'wxPayError.params', message: 'out_trade_no: must be a single text value' },
    })
    const plain = await post('/v1/pay/queryOrder', {}, { headers: { 'content-type': 'text/plain' } })
    expect(plain.status).toBe(400)
    const broken = await exports.default.fetch(
      new Request(`${SERVICE}/v1/pay/queryOrder`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: '{"out_trade_no": ',
      }),
    )
    expect(broken.status).toBe(400)
    expect((await broken.json<{ error: { code: string } }>()).error.code).toBe('wxPayError.params')
  })
})

describe('a JSON body without its Content-Type gets a hint about the header', () => {
  const send = (headers: Record<string, string>, body: string) =>
    exports.default.fetch(
      new Request(`${SERVICE}/v1/pay/params`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, ...headers },
        body,
      }),
    )
  it.each([
    [
      'as a form (what curl -d sends)',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'request body: looks like JSON but came as application/x-www-form-urlencoded (what curl -d sends); send it with Content-Type: application/json',
    ],
    [
      'as text/plain (what fetch sends for a string)',
      { 'content-type': 'text/plain;charset=UTF-8' },
      'request body: looks like JSON but came as text/plain; send it with Content-Type: application/json',
    ],
    [
      'with no Content-Type',
      {},
      'request body: looks like JSON but came with no Content-Type; send it with Content-Type: application/json',
    ],
  ])('%s', async (_, headers, message) => {
    const calls = countUpstream()
    const request = new Request(`${SERVICE}/v1/pay/params`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: new TextEncoder().encode(` ${JSON.stringify(jsapiOrder())}`),
    })
    const response = await exports.default.fetch(request)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: { code: 'wxPayError.params', message } })
    expect(calls).toEqual([])
  })

  it('a body in another media type that is not JSON is told which media types to use', async () => {
    const response = await send({ 'content-type': 'text/csv' }, 'body,total_fee')
    expect(await response.json()).toEqual({
      error: {
        code: 'wxPayError.params',
        message: 'send the fields as application/x-www-form-urlencoded (or application/json), not as text/csv',
      },
    })
  })

  it('the same JSON with its Content-Type is accepted', async () => {
    const response = await send({ 'content-type': 'application/json' }, JSON.stringify(jsapiOrder()))
    expect(response.status).toBe(200)
  })
})

describe('errors are JSON, whatever goes wrong', () => {
  it('unknown route → 404 wxPayError.notFound', async () => {
    const response = await exports.default.fetch(`${SERVICE}/v1/pay/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({
      error: { code: 'wxPayError.notFound', message: 'no route for POST /v1/pay/transfer' },
    })
  })

  it.each([
    '/v1/pay/params',
    '/v1/pay/unified',
    '/v1/pay/queryOrder',
    '/v1/pay/closeOrder',
    '/v1/pay/refund',
    '/v1/pay/refundQuery',
    '/v1/pay/redeliver',
    '/v1/pay/notify',
    '/v1/pay/notify/refund',
  ])('GET %s → 405 wxPayError.methodNotAllowed', async (path) => {
    const response = await exports.default.fetch(`${SERVICE}${path}`, {
      headers: { authorization: `Bearer ${scopeOf(path) === 'ops' ? OPS_TOKEN : TOKEN}` },
    })
    expect(response.status).toBe(405)
    expect(await response.json()).toEqual({
      error: { code: 'wxPayError.methodNotAllowed', message: `${path} accepts POST only` },
    })
  })

  it.each(['OPTIONS', 'GET', 'PUT', 'DELETE', 'PATCH'])(
    '%s without a token → 405, like any method a route does not take (checked before auth)',
    async (method) => {
      for (const path of ['/v1/pay/params', '/v1/pay/refund', '/v1/pay/reconciliation', '/v1/pay/notify']) {
        const response = await exports.default.fetch(`${SERVICE}${path}`, { method })
        expect(response.status).toBe(405)
        expect(await response.json()).toEqual({
          error: { code: 'wxPayError.methodNotAllowed', message: `${path} accepts POST only` },
        })
      }
    },
  )

  it('a body over 64 KB → 413 wxPayError.tooLarge', async () => {
    const { status, body } = await post('/v1/pay/params', jsapiOrder({ detail: 'x'.repeat(70_000) }))
    expect(status).toBe(413)
    expect(body.error.code).toBe('wxPayError.tooLarge')
  })

  it('missing configuration → 500 wxPayError.config naming the variable, without any secret', async () => {
    const logs = captureLogs()
    const request = () =>
      new Request(`${SERVICE}/v1/pay/params`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(jsapiOrder() as Record<string, string>),
      })
    const cases: [Partial<Env>, string][] = [
      [{ WXPAY_API_KEY: undefined }, 'WXPAY_API_KEY is not set (set it with `wrangler secret put`)'],
      [{ WXPAY_API_KEY: 'short' }, 'WXPAY_API_KEY must be the 32-character APIv2 key'],
      [{ WXPAY_SIGN_TYPE: 'SHA1' }, 'WXPAY_SIGN_TYPE must be one of MD5, HMAC-SHA256'],
      [{ WXPAY_TIMEOUT_MS: 'soon' }, 'WXPAY_TIMEOUT_MS must be a whole number of milliseconds from 1 to 60000'],
      [{ WXPAY_API_BASE: 'api.mch.weixin.qq.com' }, 'WXPAY_API_BASE must be an http(s) URL'],
      ...(['RECOVERY_SCHEDULE', 'RELAY_RETRY_SCHEDULE', 'REFUND_CHECK_SCHEDULE'] as const).flatMap((name) =>
        ['soon', '600,300', '0,60', '60,,120', `1,${'9'.repeat(8)}`].map((value): [Partial<Env>, string] => [
          { [name]: value },
          `${name} must be up to 20 increasing numbers of seconds, comma-separated (e.g. 300,1800,7500)`,
        ]),
      ),
      [
        { NOTIFY_SECRET: 'a-secret-of-16-chars,b-secret-of-16-chars,c-secret-of-16-chars' },
        'NOTIFY_SECRET must be one secret, or two separated by a comma, each at least 16 printable characters',
      ],
    ]
    for (const [override, message] of cases) {
      const response = await worker.fetch(request(), { ...env, ...override }, createExecutionContext())
      expect(response.status).toBe(500)
      const text = await response.text()
      expect(JSON.parse(text)).toEqual({ error: { code: 'wxPayError.config', message } })
      expect(text).not.toContain(env.WXPAY_API_KEY as string)
    }
    expect(logs()).toEqual(
      cases.map(([, message]) => ({ event: 'request_failed', path: '/v1/pay/params', kind: 'config', error: message })),
    )
  })

  it('the sandbox does not exist where the configuration does not enable it (production)', async () => {
    const request = new Request(`${SERVICE}/sandbox/pay`, {
      method: 'POST',
      body: new URLSearchParams({ out_trade_no: 'x' }),
    })
    const response = await worker.fetch(request, { ...env, WXPAY_SANDBOX: undefined }, createExecutionContext())
    expect(response.status).toBe(404)
    expect((await response.json<{ error: { code: string } }>()).error.code).toBe('wxPayError.notFound')
  })

  it('an unexpected failure → 500 wxPayError.internal with no stack trace', async () => {
    const logs = captureLogs()
    const no = orderNo()
    await env.ORDERS.put(`order:${no}`, '{not json')
    const { status, body } = await post('/v1/pay/closeOrder', { out_trade_no: no })
    expect(status).toBe(500)
    expect(body.error.code).toBe('wxPayError.internal')
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js)|stack/i)
    // A KV record from before the ledger that does not parse is never guessed at.
    expect(logs()).toEqual([
      { event: 'record_unreadable', out_trade_no: no },
      {
        event: 'request_failed',
        path: '/v1/pay/closeOrder',
        kind: 'internal',
        error: `the KV record of order ${no} is not a v1 record`,
      },
    ])
  })
})

describe('inputs refused before WeChat (encoding, prototype names, expiry)', () => {
  async function postBody(body: BodyInit, type: string) {
    const calls = countUpstream()
    const response = await exports.default.fetch(
      new Request(`${SERVICE}/v1/pay/params`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        body,
      }),
    )
    return {
      status: response.status,
      body: await response.json<{ error?: { code: string; message: string } }>(),
      calls,
    }
  }
  const form = (fields: Record<string, string | number>) =>
    new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString()
  // 你好 in GBK: what a shop whose page or database is not UTF-8 sends.
  const GBK = '%C4%E3%BA%C3'

  it.each([
    [
      'a field percent-encoded in GBK',
      () => `${form(jsapiOrder())}&attach=${GBK}`,
      'application/x-www-form-urlencoded',
      'attach: is not valid UTF-8 (percent-encode the UTF-8 bytes of each field)',
    ],
    [
      'raw GBK bytes in a form body',
      () => new Uint8Array([...new TextEncoder().encode(`${form(jsapiOrder())}&attach=`), 0xc4, 0xe3]),
      'application/x-www-form-urlencoded',
      'request body: is not valid UTF-8 (send every field as UTF-8)',
    ],
    [
      'raw GBK bytes in a JSON body',
      () => {
        const json = new TextEncoder().encode(JSON.stringify({ ...jsapiOrder(), attach: '' }))
        return new Uint8Array([...json.slice(0, -3), 0xc4, 0xe3, ...json.slice(-2)])
      },
      'application/json',
      'request body: is not valid UTF-8 (send every field as UTF-8)',
    ],
    [
      'a form declaring charset=gbk',
      () => form(jsapiOrder()),
      'application/x-www-form-urlencoded; charset=gbk',
      'request body: Content-Type declares charset=gbk; send UTF-8',
    ],
    [
      'JSON declaring charset=GB2312',
      () => JSON.stringify(jsapiOrder()),
      'application/json; charset=GB2312',
      'request body: Content-Type declares charset=GB2312; send UTF-8',
    ],
    [
      'a form field named __proto__',
      () => `${form(jsapiOrder())}&__proto__=x`,
      'application/x-www-form-urlencoded',
      '__proto__: unknown field',
    ],
    [
      'a JSON field named __proto__',
      () => `{"__proto__":{"total_fee":"1"},${JSON.stringify(jsapiOrder()).slice(1)}`,
      'application/json',
      '__proto__: unknown field',
    ],
  ])('%s → 400 wxPayError.params', async (_, body, type, message) => {
    const reply = await postBody(body(), type)
    expect(reply.status).toBe(400)
    expect(reply.body).toEqual({ error: { code: 'wxPayError.params', message } })
    expect(reply.calls).toEqual([])
  })

  it.each([
    'application/x-www-form-urlencoded; charset=UTF-8',
    'application/x-www-form-urlencoded;charset="utf-8"',
    'application/json; charset=utf8',
  ])('accepts UTF-8 declared as %s', async (type) => {
    const order = jsapiOrder({ attach: '你好' })
    const reply = await postBody(type.includes('json') ? JSON.stringify(order) : form(order), type)
    expect(reply.status).toBe(200)
  })

  const beijing = (ms: number) => {
    const d = new Date(ms + 8 * 3600_000)
    const two = (n: number) => String(n).padStart(2, '0')
    return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`
  }
  it.each([
    ['an hour ago', -3600_000],
    ['30 s ahead', 30_000],
    ['now in UTC rather than Beijing time, an hour ahead', 3600_000 - 8 * 3600_000],
  ])('time_expire %s → params error', async (_, offset) => {
    const calls = countUpstream()
    const { status, body } = await post('/v1/pay/params', jsapiOrder({ time_expire: beijing(Date.now() + offset) }))
    expect(status).toBe(400)
    expect(body.error).toEqual({
      code: 'wxPayError.params',
      message: 'time_expire: must be at least one minute from now (Beijing time, UTC+8)',
    })
    expect(calls).toEqual([])
  })

  it('accepts time_expire five minutes ahead in Beijing time', async () => {
    const reply = await post('/v1/pay/params', jsapiOrder({ time_expire: beijing(Date.now() + 5 * 60_000) }))
    expect(reply.status).toBe(200)
  })

  it.each(['101.0', '1e2', '1.01e2', '-1', '1E2', '0'])('a JSON total_fee written as %s is refused', async (fee) => {
    const json = JSON.stringify(jsapiOrder()).replace(/"total_fee":101/, `"total_fee":${fee}`)
    const reply = await postBody(json, 'application/json')
    expect(reply.status).toBe(400)
    expect(reply.body.error?.message).toBe(
      'total_fee: must be a positive integer number of fen, at most 15 digits (999999999999999)',
    )
  })

  it('a JSON total_fee written as a plain integer, or as a string, is accepted', async () => {
    expect((await post('/v1/pay/params', jsapiOrder({ total_fee: 101 }), { json: true })).status).toBe(200)
    expect((await post('/v1/pay/params', jsapiOrder({ total_fee: '101' }), { json: true })).status).toBe(200)
  })
})
