/**
 * The notification route under mutation: thousands of variants of a genuine notification — fields
 * dropped, duplicated, reordered, changed, added, re-encoded, truncated, with and without re-signing.
 * Whatever arrives, the reply is never a 5xx, and it is SUCCESS only for a message whose signature
 * verifies and whose total_fee equals the order's, or a verified result_code FAIL (acknowledged, nothing moves).
 */
import { exports } from 'cloudflare:workers'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { SIGN_TYPES, type SignType, sign, verify } from '../../src/wechat/sign'
import { decode, XmlError } from '../../src/wechat/xml'
import { jsapiOrder, post } from '../support/api'
import { route, SERVICE } from '../support/net'
import { quietLogs } from '../support/secrets'
import { APPID, KEY, MCH_ID } from '../support/wechat'

type Entry = [string, string]
type Order = { out_trade_no: string; total_fee: number; openid: string }

const orders: Order[] = []

beforeAll(async () => {
  for (const total_fee of [1, 101, 88_888]) {
    const order = jsapiOrder({ total_fee }) as unknown as Order
    expect((await post('/v1/pay/params', order as unknown as Record<string, string>)).status).toBe(200)
    orders.push(order)
  }
})

function genuine(order: Order, transactionId: string): Entry[] {
  return [
    ['appid', APPID],
    ['bank_type', 'CFT'],
    ['cash_fee', String(order.total_fee)],
    ['fee_type', 'CNY'],
    ['is_subscribe', 'N'],
    ['mch_id', MCH_ID],
    ['nonce_str', 'abc123'],
    ['openid', order.openid],
    ['out_trade_no', order.out_trade_no],
    ['result_code', 'SUCCESS'],
    ['return_code', 'SUCCESS'],
    ['time_end', '20261127120000'],
    ['total_fee', String(order.total_fee)],
    ['trade_type', 'JSAPI'],
    ['transaction_id', transactionId],
  ]
}

type Mutation =
  | { op: 'drop'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'change'; at: number; value: string }
  | { op: 'add'; name: string; value: string }
  | { op: 'swap'; a: number; b: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('change' as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer({ min: -5, max: 100_000 }).map(String),
      fc.constantFrom('', '1.0', ' 1', 'SUCCESS', 'FAIL'),
    ),
  }),
  fc.record({
    op: fc.constant('add' as const),
    name: fc.constantFrom('attach', 'sign_type', 'coupon_fee', 'extra_field', '__proto__', 'total_fee'),
    value: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('MD5', 'HMAC-SHA256', '1')),
  }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
)

function apply(entries: Entry[], m: Mutation): Entry[] {
  const out = entries.slice()
  const pick = (i: number) => (out.length === 0 ? -1 : i % out.length)
  if (m.op === 'drop' && pick(m.at) >= 0) out.splice(pick(m.at), 1)
  if (m.op === 'duplicate' && pick(m.at) >= 0) out.splice(pick(m.at), 0, out[pick(m.at)] as Entry)
  if (m.op === 'change' && pick(m.at) >= 0) out[pick(m.at)] = [(out[pick(m.at)] as Entry)[0], m.value]
  if (m.op === 'add') out.push([m.name, m.value])
  if (m.op === 'swap' && out.length > 0) {
    const [a, b] = [pick(m.a), pick(m.b)]
    ;[out[a], out[b]] = [out[b] as Entry, out[a] as Entry]
  }
  return out
}

type Encoding = 'plain' | 'cdata' | 'entities'

function serialize(entries: Entry[], encoding: Encoding): string {
  const text = (value: string) =>
    encoding === 'cdata'
      ? `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
      : value
          .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string)
          .replace(/[0-9]/g, (d) => (encoding === 'entities' ? `&#${d.charCodeAt(0)};` : d))
  return `<xml>${entries.map(([name, value]) => `<${name}>${text(value)}</${name}>`).join('\n')}</xml>`
}

const scenario = fc.record({
  order: fc.nat({ max: 2 }),
  transaction: fc.constantFrom('4200000000000000000000000001', '4200000000000000000000000002'),
  mutations: fc.array(mutation, { maxLength: 3 }),
  resign: fc.option(fc.record({ type: fc.constantFrom(...SIGN_TYPES), declare: fc.boolean() }), { freq: 2 }),
  signFirst: fc.boolean(),
  encoding: fc.constantFrom<Encoding>('plain', 'cdata', 'entities'),
  truncate: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
})

async function signEntries(entries: Entry[], type: SignType, declare: boolean): Promise<Entry[]> {
  const withType = declare ? [...entries.filter(([n]) => n !== 'sign_type'), ['sign_type', type] as Entry] : entries
  const fields = Object.fromEntries(withType.filter(([n]) => n !== 'sign'))
  return [...withType.filter(([n]) => n !== 'sign'), ['sign', await sign(fields, KEY, type)]]
}

describe('POST /v1/pay/notify under mutation', () => {
  it('never answers 5xx, and answers SUCCESS only to a verified message with the order’s amount', async () => {
    quietLogs()
    route('shop.test', () => new Response('ok'))
    const outcomes = { success: 0, fail: 0 }
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const order = orders[s.order] as Order
        let entries = genuine(order, s.transaction)
        // Signed first then mutated (a tampered message), or mutated then signed (a forger with the key).
        if (s.signFirst) entries = await signEntries(entries, 'HMAC-SHA256', false)
        for (const m of s.mutations) entries = apply(entries, m)
        if (s.resign) entries = await signEntries(entries, s.resign.type, s.resign.declare)
        let body = serialize(entries, s.encoding)
        if (s.truncate !== null) body = body.slice(0, s.truncate % body.length)

        const response = await exports.default.fetch(new Request(`${SERVICE}/v1/pay/notify`, { method: 'POST', body }))
        const reply = await response.text()
        expect(response.status).toBe(200)
        expect(reply).toMatch(/^<xml><return_code><!\[CDATA\[(SUCCESS|FAIL)\]\]><\/return_code>/)
        if (!reply.includes('SUCCESS]]></return_code>')) {
          outcomes.fail += 1
          return
        }
        outcomes.success += 1
        let fields: Record<string, string>
        try {
          fields = decode(body)
        } catch (err) {
          expect.fail(`SUCCESS for a body the codec refuses (${err instanceof XmlError ? err.message : err})`)
        }
        expect(await verify(fields, KEY)).toBe(true)
        expect(fields.return_code).toBe('SUCCESS')
        // A verified result_code FAIL (the payment failed) is acknowledged and moves nothing.
        if (fields.result_code === 'FAIL') return
        expect(fields.total_fee).toBe(String(order.total_fee))
        expect(fields.out_trade_no).toBe(order.out_trade_no)
      }),
      { numRuns: 2000 },
    )
    // Both outcomes must occur, or the property proved nothing.
    expect(outcomes.success).toBeGreaterThan(100)
    expect(outcomes.fail).toBeGreaterThan(500)
  }, 120_000)
})
