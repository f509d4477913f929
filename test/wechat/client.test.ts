/**
 * @module
 * The client's refund-era paths: `/secapi/*` goes through the certificate transport to WeChat's
 * domains (main and backup) and is refused there without one, before anything is sent; other
 * bases use plain fetch. downloadbill answers a bill (gzipped or not, told by its bytes), "No Bill
 * Exist", or an error.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config'
import { PayError } from '../../src/errors'
import { type BillReply, createClient, isWechatHost, type Transport } from '../../src/wechat/client'
import { verify } from '../../src/wechat/sign'
import { decode } from '../../src/wechat/xml'
import { captureLogs } from '../support/secrets'
import { KEY, successReply } from '../support/wechat'

const WECHAT = {
  WXPAY_API_BASE: 'https://api.mch.weixin.qq.com',
  WXPAY_API_BASE_BACKUP: 'https://api2.mch.weixin.qq.com',
}
const SIMULATOR = { WXPAY_API_BASE: 'http://sim.test', WXPAY_API_BASE_BACKUP: 'http://sim2.test' }

const config = (bases: Record<string, string>) => loadConfig({ ...env, ...bases } as Env)

const REFUND = {
  out_trade_no: 'ORD1',
  out_refund_no: 'RF1',
  total_fee: '101',
  refund_fee: '30',
  notify_url: 'https://pay.test/n',
}
const ACCEPTED = {
  transaction_id: '4200000001202611290000000001',
  out_trade_no: 'ORD1',
  out_refund_no: 'RF1',
  refund_id: '50300000012026112900000000001',
  refund_fee: '30',
  total_fee: '101',
  cash_fee: '101',
}

/** A transport that records the URLs it was asked for and answers with `answer`. */
function counted(answer: (url: string, n: number) => Response | Promise<Response>) {
  const urls: string[] = []
  const transport: Transport & typeof fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    urls.push(url)
    if (init?.body) requests.push(decode(String(init.body)))
    return answer(url, urls.length)
  }) as Transport & typeof fetch
  const requests: Record<string, string>[] = []
  return { transport, urls, requests }
}

const unused = () => counted(() => new Response('unexpected', { status: 500 }))

async function caught(promise: Promise<unknown>): Promise<PayError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(PayError)
  return error as PayError
}

describe('/secapi/* and the client certificate', () => {
  it('is refused to WeChat’s domains without certFetch, naming WXPAY_CERT, before anything is sent', async () => {
    const plain = unused()
    const error = await caught(
      createClient({ config: config(WECHAT), fetch: plain.transport }).call('/secapi/pay/refund', REFUND),
    )
    expect(error.failure.kind).toBe('config')
    expect(error.message).toContain('WXPAY_CERT')
    expect(plain.urls).toEqual([])
  })

  it('is refused when only the backup domain is WeChat’s', async () => {
    const plain = unused()
    const client = createClient({
      config: config({ WXPAY_API_BASE: 'http://sim.test', WXPAY_API_BASE_BACKUP: 'https://api2.mch.weixin.qq.com' }),
      fetch: plain.transport,
    })
    expect((await caught(client.call('/secapi/pay/refund', REFUND))).failure.kind).toBe('config')
    expect(plain.urls).toEqual([])
  })

  it('goes through certFetch to WeChat’s domain, and the verified reply comes back', async () => {
    const plain = unused()
    const cert = counted(() => successReply(ACCEPTED))
    const client = createClient({ config: config(WECHAT), fetch: plain.transport, certFetch: cert.transport })
    const reply = await client.call('/secapi/pay/refund', REFUND)
    expect(reply.refund_id).toBe(ACCEPTED.refund_id)
    expect(cert.urls).toEqual(['https://api.mch.weixin.qq.com/secapi/pay/refund'])
    expect(plain.urls).toEqual([])
    expect(await verify(cert.requests[0] ?? {}, KEY)).toBe(true)
    expect(cert.requests[0]).toMatchObject({ ...REFUND, appid: env.WXPAY_APPID, mch_id: env.WXPAY_MCH_ID })
  })

  it('falls back to the backup domain through certFetch too', async () => {
    const logs = captureLogs()
    const plain = unused()
    const cert = counted((_, n) =>
      n === 1 ? Promise.reject(new TypeError('connection reset')) : successReply(ACCEPTED),
    )
    const client = createClient({ config: config(WECHAT), fetch: plain.transport, certFetch: cert.transport })
    expect((await client.call('/secapi/pay/refund', REFUND)).result_code).toBe('SUCCESS')
    expect(cert.urls).toEqual([
      'https://api.mch.weixin.qq.com/secapi/pay/refund',
      'https://api2.mch.weixin.qq.com/secapi/pay/refund',
    ])
    expect(plain.urls).toEqual([])
    expect(logs()).toEqual([
      {
        event: 'wechat_transport_failure',
        path: '/secapi/pay/refund',
        base: 'https://api.mch.weixin.qq.com',
        reason: 'network error',
      },
    ])
  })

  it('goes over plain fetch to any other base (sandbox, simulator), with or without certFetch', async () => {
    for (const withCert of [false, true]) {
      const plain = counted(() => successReply(ACCEPTED))
      const cert = unused()
      const client = createClient({
        config: config(SIMULATOR),
        fetch: plain.transport,
        ...(withCert ? { certFetch: cert.transport } : {}),
      })
      expect((await client.call('/secapi/pay/refund', REFUND)).refund_id).toBe(ACCEPTED.refund_id)
      expect(plain.urls).toEqual(['http://sim.test/secapi/pay/refund'])
      expect(cert.urls).toEqual([])
    }
  })

  it('sends paths without /secapi/ over plain fetch even to WeChat and when certFetch is given', async () => {
    const plain = counted(() => successReply({ out_trade_no: 'ORD1', refund_count: '0' }))
    const cert = unused()
    const client = createClient({ config: config(WECHAT), fetch: plain.transport, certFetch: cert.transport })
    await client.call('/pay/refundquery', { out_trade_no: 'ORD1' })
    expect(plain.urls).toEqual(['https://api.mch.weixin.qq.com/pay/refundquery'])
    expect(cert.urls).toEqual([])
    // And refundquery needs no certificate at all.
    const alone = counted(() => successReply({ out_trade_no: 'ORD1', refund_count: '0' }))
    await createClient({ config: config(WECHAT), fetch: alone.transport }).call('/pay/refundquery', {
      out_trade_no: 'ORD1',
    })
    expect(alone.urls).toHaveLength(1)
  })

  it.each([
    ['https://api.mch.weixin.qq.com', true],
    ['https://api2.mch.weixin.qq.com/', true],
    ['https://apihk.mch.weixin.qq.com', true],
    ['https://api.mch.weixin.qq.com.evil.test', false],
    ['https://notmch.weixin.qq.com', false],
    ['http://localhost:8787/sandbox', false],
    ['not a url', false],
  ])('isWechatHost(%s) is %s', (base, expected) => {
    expect(isWechatHost(base)).toBe(expected)
  })
})

describe('bill', () => {
  const CSV = '交易时间,公众账号ID\r\n`2026-11-28 09:12:03,`T-shirt, XL\r\n'
  const xml = (fields: Record<string, string>) =>
    `<xml>${Object.entries(fields)
      .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
      .join('')}</xml>`
  const gzip = (text: string) => new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))
  /** A bill reply with its body read as text. */
  const read = async (reply: BillReply) =>
    reply.kind === 'bill' ? { kind: 'bill', text: await new Response(reply.body).text() } : reply

  it('asks for the bill gzipped, signed, and hands it on decompressed', async () => {
    // The header says text: the bytes decide.
    const zipped = counted(() => new Response(gzip(CSV), { headers: { 'content-type': 'text/plain' } }))
    const reply = await createClient({ config: config(SIMULATOR), fetch: zipped.transport }).bill({
      bill_date: '20261128',
      bill_type: 'ALL',
    })
    expect(await read(reply)).toEqual({ kind: 'bill', text: CSV })
    expect(zipped.urls).toEqual(['http://sim.test/pay/downloadbill'])
    const request = zipped.requests[0] ?? {}
    expect(request).toMatchObject({ bill_date: '20261128', bill_type: 'ALL', tar_type: 'GZIP' })
    expect(await verify(request, KEY)).toBe(true)
  })

  it('reads a plain-text bill as well, whatever its header says', async () => {
    const plain = counted(() => new Response(CSV, { headers: { 'content-type': 'application/x-gzip' } }))
    const reply = await createClient({ config: config(SIMULATOR), fetch: plain.transport }).bill({
      bill_date: '20261128',
      bill_type: 'ALL',
    })
    expect(await read(reply)).toEqual({ kind: 'bill', text: CSV })
  })

  it('hands on a bill that is still arriving: the timeout covers its first bytes, not the whole day', async () => {
    const encoder = new TextEncoder()
    const slow = counted(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(encoder.encode('交易时间,公众账号ID\r\n'))
            },
            async pull(controller) {
              await new Promise((resolve) => setTimeout(resolve, 120))
              controller.enqueue(encoder.encode('`2026-11-28 09:12:03,`T-shirt, XL\r\n'))
              controller.close()
            },
          }),
        ),
    )
    const short = loadConfig({ ...env, ...SIMULATOR, WXPAY_TIMEOUT_MS: '40' } as Env)
    const reply = await createClient({ config: short, fetch: slow.transport }).bill({
      bill_date: '20261128',
      bill_type: 'ALL',
    })
    expect(await read(reply)).toEqual({ kind: 'bill', text: CSV })
  })

  it('tells an XML answer by its bytes: after a byte-order mark and white space, or gzipped', async () => {
    const none = xml({ return_code: 'FAIL', return_msg: 'No Bill Exist', error_code: '20002' })
    for (const body of [`\uFEFF\r\n  ${none}`, gzip(none)]) {
      const answer = counted(() => new Response(body))
      const reply = await createClient({ config: config(SIMULATOR), fetch: answer.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      })
      expect(reply).toEqual({ kind: 'none', message: 'No Bill Exist' })
    }
  })

  it('treats a broken gzip answer as a transport failure', async () => {
    const logs = captureLogs()
    const broken = counted(() => new Response(new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9])))
    const error = await caught(
      createClient({ config: config(SIMULATOR), fetch: broken.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      }),
    )
    expect(error.failure.kind).toBe('upstream')
    expect(broken.urls).toHaveLength(2)
    expect(logs()).toHaveLength(2)
  })

  it('answers kind none for "No Bill Exist" (and the doc’s "NO Bill Exist")', async () => {
    for (const message of ['No Bill Exist', 'NO Bill Exist']) {
      const plain = counted(() => new Response(xml({ return_code: 'FAIL', return_msg: message, error_code: '20002' })))
      const reply = await createClient({ config: config(SIMULATOR), fetch: plain.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      })
      expect(reply).toEqual({ kind: 'none', message })
    }
  })

  it.each(['Bill Creating', 'invalid bill_date', 'SIGN ERROR'])('is an upstream error for "%s"', async (message) => {
    const plain = counted(() => new Response(xml({ return_code: 'FAIL', return_msg: message, error_code: '20001' })))
    const error = await caught(
      createClient({ config: config(SIMULATOR), fetch: plain.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      }),
    )
    expect(error.failure.kind).toBe('upstream')
    expect(error.message).toContain(message)
  })

  it('is a WeChat error for a signed result_code FAIL reply, and refuses one that does not verify', async () => {
    const logs = captureLogs()
    const signedFail = counted(() =>
      successReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统错误' }),
    )
    const error = await caught(
      createClient({ config: config(SIMULATOR), fetch: signedFail.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      }),
    )
    expect(error.failure).toMatchObject({ kind: 'wechat', errCode: 'SYSTEMERROR' })
    const forged = counted(
      () => new Response(xml({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'X', sign: 'A'.repeat(64) })),
    )
    const refused = await caught(
      createClient({ config: config(SIMULATOR), fetch: forged.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      }),
    )
    expect(refused.failure.kind).toBe('upstream')
    expect(logs()).toEqual([
      { event: 'wechat_reply_rejected', path: '/pay/downloadbill', reason: 'signature does not verify' },
    ])
  })

  it('tries the backup domain when the main one fails', async () => {
    const logs = captureLogs()
    const plain = counted((_, n) => (n === 1 ? new Response('bad gateway', { status: 502 }) : new Response(CSV)))
    const reply = await createClient({ config: config(SIMULATOR), fetch: plain.transport }).bill({
      bill_date: '20261128',
      bill_type: 'ALL',
    })
    expect(reply.kind).toBe('bill')
    expect(plain.urls).toEqual(['http://sim.test/pay/downloadbill', 'http://sim2.test/pay/downloadbill'])
    expect(logs()).toEqual([
      { event: 'wechat_transport_failure', path: '/pay/downloadbill', base: 'http://sim.test', reason: 'HTTP 502' },
    ])
  })

  it('treats an HTML error page as a transport failure: the backup is tried, then upstream', async () => {
    const logs = captureLogs()
    const html = () => new Response('<html><body>404 Not Found</body></html>', { status: 404 })
    const once = counted((_, n) => (n === 1 ? html() : new Response(CSV)))
    const reply = await createClient({ config: config(SIMULATOR), fetch: once.transport }).bill({
      bill_date: '20261128',
      bill_type: 'ALL',
    })
    expect(await read(reply)).toEqual({ kind: 'bill', text: CSV })
    expect(once.urls).toHaveLength(2)
    const always = counted(html)
    const error = await caught(
      createClient({ config: config(SIMULATOR), fetch: always.transport }).bill({
        bill_date: '20261128',
        bill_type: 'ALL',
      }),
    )
    expect(error.failure.kind).toBe('upstream')
    expect(error.message).toContain('not WeChat Pay XML')
    expect(logs()).toEqual(
      ['http://sim.test', 'http://sim.test', 'http://sim2.test'].map((base) => ({
        event: 'wechat_transport_failure',
        path: '/pay/downloadbill',
        base,
        reason: 'HTTP 404 reply is not WeChat Pay XML',
      })),
    )
  })

  it('refuses a bill_date that is not yyyyMMdd before sending', async () => {
    const plain = unused()
    const error = await caught(
      createClient({ config: config(SIMULATOR), fetch: plain.transport }).bill({
        bill_date: '2026-11-28',
        bill_type: 'ALL',
      }),
    )
    expect(error.failure.kind).toBe('params')
    expect(plain.urls).toEqual([])
  })
})
