/**
 * The front door, without a token: GET / (what this is, where its documentation is), GET /health
 * (every missing or invalid setting by name, never a value) and the `servers` entry of /openapi.json.
 */
import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/dev'
import { TEST_BINDINGS } from '../support/bindings'
import { SERVICE } from '../support/net'

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the service answers
type Json = Record<string, any>

/** GET `path` with this env (the test configuration, changed by `changes`; `undefined` removes a name). */
async function get(path: string, changes: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const request = new Request(`${SERVICE}${path}`, { headers })
  const response = await worker.fetch(request, { ...env, ...changes } as Env, createExecutionContext())
  const text = await response.text()
  let json: Json = {}
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json }
}

describe('GET /', () => {
  it('says what the service is and links its document and health, with the sandbox pages in dev', async () => {
    const reply = await get('/')
    expect(reply.status).toBe(200)
    expect(reply.json.data).toMatchObject({ service: 'wxpayserver', documentation: expect.stringContaining('README') })
    expect(reply.json.data.links).toEqual({
      openapi: `${SERVICE}/openapi.json`,
      health: `${SERVICE}/health`,
      reference: `${SERVICE}/sandbox/reference`,
      checkout: `${SERVICE}/sandbox/checkout`,
      checkout_native: `${SERVICE}/sandbox/checkout/native`,
    })
  })

  it('links no sandbox page when the sandbox is off (production)', async () => {
    const reply = await get('/', { WXPAY_SANDBOX: undefined })
    expect(Object.keys(reply.json.data.links)).toEqual(['openapi', 'health'])
  })

  it('links under PUBLIC_URL when it is set', async () => {
    const reply = await get('/', { PUBLIC_URL: 'https://pay.example.com' })
    expect(reply.json.data.links.openapi).toBe('https://pay.example.com/openapi.json')
  })
})

describe('GET /health', () => {
  it('is 200 with no problem when the configuration and the bindings are complete', async () => {
    const reply = await get('/health')
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({
      status: 'ok',
      problems: [],
      bindings: { ORDERS: true, LEDGER: true, WXPAY_CERT: false },
    })
    // The sandbox is WeChat here: no certificate is needed, and the cron's note is always there.
    expect(reply.json.notes).toEqual([expect.stringContaining('Cron Trigger')])
  })

  it('is 503 naming every missing or invalid variable, never a value', async () => {
    const badKey = 'not-a-32-character-key-but-secret'
    const badUrl = 'ftp://pay.example.com/secret-path'
    const reply = await get('/health', {
      WXPAY_APPID: '',
      WXPAY_API_KEY: badKey,
      API_TOKENS: undefined,
      NOTIFY_SECRET: 'short',
      PUBLIC_URL: badUrl,
      RECOVERY_SCHEDULE: '300,200',
    })
    expect(reply.status).toBe(503)
    expect(reply.json.status).toBe('misconfigured')
    expect(reply.json.problems.map((problem: Json) => problem.name)).toEqual([
      'WXPAY_APPID',
      'WXPAY_API_KEY',
      'API_TOKENS',
      'NOTIFY_SECRET',
      'PUBLIC_URL',
      'RECOVERY_SCHEDULE',
    ])
    expect(reply.json.problems[0].message).toBe('WXPAY_APPID is not set')
    for (const value of [badKey, badUrl, 'short', '300,200', TEST_BINDINGS.WXPAY_MCH_ID, TEST_BINDINGS.NOTIFY_SECRET])
      expect(reply.text).not.toContain(value)
    expect(reply.json.notes).toHaveLength(1)
  })

  it('names a missing binding', async () => {
    const reply = await get('/health', { ORDERS: undefined, LEDGER: undefined })
    expect(reply.status).toBe(503)
    expect(reply.json.bindings).toMatchObject({ ORDERS: false, LEDGER: false })
    expect(reply.json.problems.map((problem: Json) => problem.name)).toEqual(['ORDERS', 'LEDGER'])
  })

  it('notes a missing certificate when the service talks to WeChat itself', async () => {
    const reply = await get('/health', { WXPAY_API_BASE: undefined, WXPAY_API_BASE_BACKUP: undefined })
    expect(reply.status).toBe(200)
    expect(reply.json.notes).toContainEqual(expect.stringMatching(/^WXPAY_CERT is not bound: refunds/))
    const bound = await get('/health', {
      WXPAY_API_BASE: undefined,
      WXPAY_API_BASE_BACKUP: undefined,
      WXPAY_CERT: { fetch: () => new Response() },
    })
    expect(bound.json.bindings.WXPAY_CERT).toBe(true)
    expect(bound.json.notes).toHaveLength(1)
  })
})

describe('GET /openapi.json', () => {
  it('names the origin it was fetched from as its server', async () => {
    expect((await get('/openapi.json')).json.servers).toEqual([{ url: SERVICE }])
  })

  it('names PUBLIC_URL when it is set', async () => {
    const reply = await get('/openapi.json', { PUBLIC_URL: 'https://pay.example.com/' })
    expect(reply.json.servers).toEqual([{ url: 'https://pay.example.com' }])
  })
})
