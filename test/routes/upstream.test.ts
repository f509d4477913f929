import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { decode, encode } from '../../src/wechat/xml'
import { jsapiOrder, orderNo, post } from '../support/api'
import { ledgerRecord } from '../support/ledger'
import { BACKUP, type Handler, PRIMARY, passThrough, route } from '../support/net'
import { captureLogs } from '../support/secrets'
import { businessError, successReply } from '../support/wechat'

/** Records each host's calls, answering with `handler`. */
function standIn(host: string, handler: Handler): string[] {
  const calls: string[] = []
  route(host, (request) => {
    calls.push(new URL(request.url).pathname)
    return handler(request)
  })
  return calls
}

/** Timeouts are tested with a short per-attempt limit, so the suite stays fast. */
const SHORT = { env: { WXPAY_TIMEOUT_MS: '150' } }

const never: Handler = (request) =>
  new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason)))

describe('transport failures go once to the backup domain', () => {
  it.each([
    ['HTTP 503', () => new Response('busy', { status: 503 })],
    ['an HTML error page', () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 200 })],
    ['a network error', () => Promise.reject(new TypeError('connection refused'))],
    ['a timeout', never],
  ] as [string, Handler][])(
    'primary answers with %s → the same request succeeds on the backup',
    async (_case, fault) => {
      const logs = captureLogs()
      const bodies: string[] = []
      const primary = standIn(PRIMARY, async (request) => {
        bodies.push(await request.clone().text())
        return fault(request)
      })
      const backup = standIn(BACKUP, async (request) => {
        bodies.push(await request.clone().text())
        return passThrough(request)
      })
      const { status, body } = await post('/v1/pay/params', jsapiOrder(), { env: { WXPAY_TIMEOUT_MS: '1000' } })
      expect(status).toBe(200)
      expect(body.data.package).toMatch(/^prepay_id=/)
      expect(primary).toEqual(['/sandbox/pay/unifiedorder'])
      expect(backup).toEqual(['/sandbox/pay/unifiedorder'])
      expect(bodies[1]).toBe(bodies[0])
      expect(logs()).toEqual([
        {
          event: 'wechat_transport_failure',
          path: '/pay/unifiedorder',
          base: 'http://api.wechat.test/sandbox',
          reason: expect.any(String),
        },
      ])
    },
  )

  it('every attempt timing out → 504 wxPayError.timeout', async () => {
    const logs = captureLogs()
    standIn(PRIMARY, never)
    standIn(BACKUP, never)
    const { status, body } = await post('/v1/pay/queryOrder', { out_trade_no: orderNo() }, SHORT)
    expect(status).toBe(504)
    expect(body.error.code).toBe('wxPayError.timeout')
    expect(logs()).toEqual([
      expect.objectContaining({ event: 'wechat_transport_failure', reason: 'no reply within 150 ms' }),
      expect.objectContaining({ event: 'wechat_transport_failure', reason: 'no reply within 150 ms' }),
    ])
  })

  it('a non-timeout failure on the last attempt → 502 wxPayError.upstream', async () => {
    const logs = captureLogs()
    standIn(PRIMARY, never)
    standIn(BACKUP, () => new Response('oops', { status: 500 }))
    const { status, body } = await post('/v1/pay/queryOrder', { out_trade_no: orderNo() }, SHORT)
    expect(status).toBe(502)
    expect(body.error.code).toBe('wxPayError.upstream')
    expect(logs()).toEqual([
      expect.objectContaining({ event: 'wechat_transport_failure', base: 'http://api.wechat.test/sandbox' }),
      expect.objectContaining({ event: 'wechat_transport_failure', base: 'http://api2.wechat.test/sandbox' }),
    ])
  })
})

describe('signed replies are never retried and never trusted unverified', () => {
  it('return_code FAIL → 502 carrying return_msg, no backup call', async () => {
    standIn(PRIMARY, () => new Response(encode({ return_code: 'FAIL', return_msg: '签名错误' })))
    const backup = standIn(BACKUP, passThrough)
    const { status, body } = await post('/v1/pay/params', jsapiOrder())
    expect(status).toBe(502)
    expect(body.error).toEqual({ code: 'wxPayError.upstream', message: 'return_code FAIL: 签名错误' })
    expect(backup).toEqual([])
  })

  it('a reply signed with another key → 502, no backup call, no record', async () => {
    const logs = captureLogs()
    standIn(PRIMARY, () => successReply({ trade_type: 'JSAPI', prepay_id: 'wx_forged' }, 'HMAC-SHA256', 'x'.repeat(32)))
    const backup = standIn(BACKUP, passThrough)
    const order = jsapiOrder()
    const { status, body } = await post('/v1/pay/params', order)
    expect(status).toBe(502)
    expect(body.error.code).toBe('wxPayError.upstream')
    expect(backup).toEqual([])
    expect(await env.ORDERS.get(`order:${order.out_trade_no}`)).toBeNull()
    expect(logs()).toEqual([
      { event: 'wechat_reply_rejected', path: '/pay/unifiedorder', reason: 'signature does not verify' },
    ])
  })

  it('a field changed after WeChat signed the reply → 502', async () => {
    const logs = captureLogs()
    standIn(PRIMARY, async (request) => {
      const reply = decode(await (await passThrough(request)).text())
      return new Response(encode({ ...reply, prepay_id: 'wx_tampered' }))
    })
    const { status, body } = await post('/v1/pay/params', jsapiOrder())
    expect(status).toBe(502)
    expect(body.error.message).toBe('the reply to /pay/unifiedorder failed signature verification')
    expect(logs()).toEqual([
      { event: 'wechat_reply_rejected', path: '/pay/unifiedorder', reason: 'signature does not verify' },
    ])
  })

  it('a correctly signed reply for another merchant → 502', async () => {
    standIn(PRIMARY, () => successReply({ mch_id: '99999999', trade_type: 'JSAPI', prepay_id: 'wx1' }))
    expect((await post('/v1/pay/params', jsapiOrder())).body.error.code).toBe('wxPayError.upstream')
  })
})

describe('amounts reconcile', () => {
  it('a signed orderquery reply with another total_fee than the order → 502, record unchanged', async () => {
    const logs = captureLogs()
    const order = jsapiOrder()
    expect((await post('/v1/pay/params', order)).status).toBe(200)
    const before = await ledgerRecord(order.out_trade_no as string)
    standIn(PRIMARY, () =>
      successReply({
        out_trade_no: order.out_trade_no as string,
        trade_state: 'SUCCESS',
        total_fee: '1',
        cash_fee: '1',
        transaction_id: '4200000000000000000000000099',
      }),
    )
    const { status, body } = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no as string })
    expect(status).toBe(502)
    expect(body.error.message).toContain('total_fee 1')
    expect(await ledgerRecord(order.out_trade_no as string)).toEqual(before)
    expect(logs()).toEqual([
      { event: 'amount_mismatch', source: 'orderquery', out_trade_no: order.out_trade_no, reported: 1, recorded: 101 },
    ])
  })
})

describe("WeChat's business errors keep their err_code", () => {
  it.each([
    ['SYSTEMERROR', '系统错误', 503],
    ['ORDERPAID', '商户订单已支付', 409],
    ['NOAUTH', '商户无此接口权限', 502],
  ])('%s → HTTP %i with err_code_des as the message', async (code, des, httpStatus) => {
    standIn(PRIMARY, () => businessError(code, des))
    const backup = standIn(BACKUP, passThrough)
    const { status, body } = await post('/v1/pay/params', jsapiOrder())
    expect(status).toBe(httpStatus)
    expect(body.error).toEqual({ code, message: des })
    expect(backup).toEqual([])
  })
})
