/** The stand-in shop at /sandbox/merchant: relay signatures, failure on demand, the last 20 deliveries. */
import { exports } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { signatureHeader } from '../../src/relay'
import { TEST_BINDINGS } from '../support/bindings'
import { SANDBOX } from './client'

const SECRET = TEST_BINDINGS.NOTIFY_SECRET

/** A relay header as the service signs it (src/relay.ts): `t=<seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>`. */
function signature(body: string, options: { t?: number; secret?: string } = {}): Promise<string> {
  const { t = Math.floor(Date.now() / 1000), secret = SECRET } = options
  return signatureHeader([secret], body, t)
}

type Delivery = { received_at: string; signature_valid: boolean; body: unknown }
type RelayReply = { status: number; body: { received?: boolean; error?: { code: string; message: string } } }

async function relay(body: string, header: string | undefined, query = ''): Promise<RelayReply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (header !== undefined) headers['wxpay-signature'] = header
  const response = await exports.default.fetch(
    new Request(`${SANDBOX}/merchant${query}`, { method: 'POST', headers, body }),
  )
  return { status: response.status, body: (await response.json()) as RelayReply['body'] }
}

async function received(): Promise<Delivery[]> {
  const response = await exports.default.fetch(new Request(`${SANDBOX}/merchant`))
  return ((await response.json()) as { data: Delivery[] }).data
}

describe('POST /sandbox/merchant', () => {
  it('accepts a correctly signed relay and keeps it, latest first', async () => {
    const body = JSON.stringify({ event: 'paid', out_trade_no: `m${Date.now()}`, total_fee: 100 })
    expect(await relay(body, await signature(body))).toEqual({ status: 200, body: { received: true } })
    const [latest] = await received()
    expect(latest).toMatchObject({ signature_valid: true, body: JSON.parse(body) })
    expect(Date.parse(latest?.received_at ?? '')).not.toBeNaN()
  })

  it('accepts a header with two v1 signatures when one matches (secret rotation)', async () => {
    const body = '{"a":1}'
    const good = await signature(body)
    const header = `${good.split(',')[0]},v1=${'0'.repeat(64)},${good.split(',')[1]}`
    expect((await relay(body, header)).status).toBe(200)
  })

  it.each([
    ['no header', async () => undefined],
    ['a malformed header', async () => 'sha256=abc'],
    ['another secret', async (body: string) => signature(body, { secret: 'another-secret-0123456789' })],
    ['a changed body', async (body: string) => signature(`${body} `)],
    ['a timestamp 301 s old', async (body: string) => signature(body, { t: Math.floor(Date.now() / 1000) - 301 })],
    ['a timestamp 301 s ahead', async (body: string) => signature(body, { t: Math.floor(Date.now() / 1000) + 301 })],
    [
      'an upper-case v1',
      async (body: string) => (await signature(body)).toUpperCase().replace('T=', 't=').replace('V1=', 'v1='),
    ],
  ])('rejects a relay with %s (400) and records it as invalid', async (_, header) => {
    const body = JSON.stringify({ case: crypto.randomUUID() })
    const reply = await relay(body, await header(body))
    expect(reply.status).toBe(400)
    expect(reply.body.error?.code).toBe('wxPayError.signature')
    const [latest] = await received()
    expect(latest).toMatchObject({ signature_valid: false, body: JSON.parse(body) })
  })

  it('answers 500 to a valid relay with ?fail=1, so the service retries', async () => {
    const body = '{"fail":true}'
    expect((await relay(body, await signature(body), '?fail=1')).status).toBe(500)
    expect((await received())[0]).toMatchObject({ signature_valid: true })
  })

  it('answers 500 until the time ?fail_until names, then 200 (a shop that is down, then back)', async () => {
    const body = '{"down":true}'
    const later = Math.floor(Date.now() / 1000) + 60
    expect((await relay(body, await signature(body), `?fail_until=${later}`)).status).toBe(500)
    expect((await received())[0]).toMatchObject({ signature_valid: true, answered: 500 })
    const earlier = Math.floor(Date.now() / 1000) - 1
    expect((await relay(body, await signature(body), `?fail_until=${earlier}`)).status).toBe(200)
    expect((await received())[0]).toMatchObject({ signature_valid: true, answered: 200 })
  })

  it('accepts a relay signed 299 s ago', async () => {
    const body = '{"late":true}'
    const t = Math.floor(Date.now() / 1000)
    vi.spyOn(Date, 'now').mockReturnValue((t + 299) * 1000)
    try {
      expect((await relay(body, await signature(body, { t }))).status).toBe(200)
    } finally {
      vi.restoreAllMocks()
    }
  })
})

describe('GET /sandbox/merchant', () => {
  it('keeps only the last 20 deliveries, latest first', async () => {
    for (let i = 0; i < 22; i++) {
      const body = JSON.stringify({ i })
      await relay(body, await signature(body))
    }
    const list = await received()
    expect(list).toHaveLength(20)
    expect(list.map((d) => (d.body as { i: number }).i)).toEqual(Array.from({ length: 20 }, (_, k) => 21 - k))
  })
})
