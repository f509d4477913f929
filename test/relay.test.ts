/** The relay signature (src/relay.ts): signing, rotation with two secrets, and the one verifier. */
import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../src/dev'
import { relay, signedRelay, verifyRelay } from '../src/relay'
import { SANDBOX } from './sandbox/client'

const OLD = 'old-notify-secret-0123456789'
const NEW = 'new-notify-secret-9876543210'
const EVENT = { type: 'payment' as const, data: { out_trade_no: 'R1', total_fee: 101 } }
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

describe('signing', () => {
  it('carries one v1 per secret while rotating, and relay() sends that header', async () => {
    const sent: Request[] = []
    const result = await relay('https://shop.test/paid', EVENT, {
      secrets: [OLD, NEW],
      timeoutMs: 1000,
      now: () => NOW,
      fetch: async (input, init) => {
        sent.push(new Request(input, init))
        return new Response('ok')
      },
    })
    expect(result).toEqual({ delivered: true, status: 200 })
    const header = sent[0]?.headers.get('wxpay-signature') ?? ''
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/)
    expect(header).toBe((await signedRelay(EVENT, { secrets: [OLD, NEW], now: NOW })).header)
  })
})

describe('verifyRelay', () => {
  it.each([
    ['only the old secret', [OLD]],
    ['only the new secret', [NEW]],
    ['both secrets', [NEW, OLD]],
  ])('a shop knowing %s verifies a relay signed with both', async (_, known) => {
    const { body, header } = await signedRelay(EVENT, { secrets: [OLD, NEW], now: NOW })
    expect(await verifyRelay(body, header, known, { now: NOW })).toBe(true)
  })

  it('a shop that moved to the new secret verifies relays signed with it alone', async () => {
    const { body, header } = await signedRelay(EVENT, { secrets: [NEW], now: NOW })
    expect(await verifyRelay(body, header, [NEW], { now: NOW })).toBe(true)
    expect(await verifyRelay(body, header, [OLD], { now: NOW })).toBe(false)
  })

  it('accepts a timestamp 300 s away, in either direction', async () => {
    const { body, header } = await signedRelay(EVENT, { secrets: [OLD], now: NOW })
    expect(await verifyRelay(body, header, [OLD], { now: NOW + 300_000 })).toBe(true)
    expect(await verifyRelay(body, header, [OLD], { now: NOW - 300_000 })).toBe(true)
  })

  const refusals: [string, (body: string, header: string) => [string, string | null]][] = [
    ['no header', (body) => [body, null]],
    ['an empty header', (body) => [body, '']],
    ['a changed body', (body, header) => [`${body} `, header]],
    ['no timestamp', (body, header) => [body, header.replace(/^t=\d+,/, '')]],
    ['no v1', (body, header) => [body, header.replace(/,v1=.*$/, '')]],
    [
      'an upper-case v1',
      (body, header) => [body, header.replace(/v1=([0-9a-f]+)/, (_, hex) => `v1=${hex.toUpperCase()}`)],
    ],
    ['a shortened v1', (body, header) => [body, header.slice(0, -2)]],
    ['another timestamp', (body, header) => [body, header.replace(/^t=(\d+)/, (_, t) => `t=${Number(t) + 1}`)]],
    ['five v1 entries', (body, header) => [body, `${header}${`,v1=${'0'.repeat(64)}`.repeat(4)}`]],
  ]
  it.each(refusals)('refuses %s', async (_, tamper) => {
    const signed = await signedRelay(EVENT, { secrets: [OLD], now: NOW })
    const [body, header] = tamper(signed.body, signed.header)
    expect(await verifyRelay(body, header, [OLD], { now: NOW })).toBe(false)
  })

  it('refuses another secret and a timestamp 301 s away', async () => {
    const { body, header } = await signedRelay(EVENT, { secrets: [OLD], now: NOW })
    expect(await verifyRelay(body, header, [NEW], { now: NOW })).toBe(false)
    expect(await verifyRelay(body, header, [], { now: NOW })).toBe(false)
    expect(await verifyRelay(body, header, [OLD], { now: NOW + 301_000 })).toBe(false)
    expect(await verifyRelay(body, header, [OLD], { now: NOW - 301_000 })).toBe(false)
  })
})

describe('the stand-in shop while NOTIFY_SECRET holds two secrets', () => {
  it.each([
    ['the old', [OLD]],
    ['the new', [NEW]],
  ])('accepts a relay signed with %s secret only', async (_, secrets) => {
    const { body, header } = await signedRelay(EVENT, { secrets })
    const request = new Request(`${SANDBOX}/merchant`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'wxpay-signature': header },
      body,
    })
    const response = await worker.fetch(request, { ...env, NOTIFY_SECRET: `${OLD},${NEW}` }, createExecutionContext())
    expect(response.status).toBe(200)
  })
})
