/**
 * @module
 * Platform-certificate mode (v3 reference §4.5): certificates from `GET /v3/certificates`, sealed
 * under the APIv3 key, verified with themselves, kept per isolate and in KV (`v3-certs`), fetched
 * again at most once a minute when an unknown serial arrives. Each test uses its own API host, so
 * its isolate state is its own, and its own KV.
 */
import { describe, expect, it } from 'vitest'
import type { PayError } from '../../../src/errors'
import { createV3Client } from '../../../src/wechat/v3/client'
import { aesGcmEncrypt } from '../../../src/wechat/v3/crypto'
import { CERTIFICATES_KEY, type KeyValue } from '../../../src/wechat/v3/keys'
import { route } from '../../support/net'
import { captureLogs } from '../../support/secrets'
import { type Answer, type Signing, standIn, v3Config } from '../../support/v3-standin'
import * as V from './vectors'

const TRANSACTION = JSON.parse(V.B5_PLAIN) as Record<string, unknown>
let hosts = 0

function memoryKv(): KeyValue & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return {
    data,
    get: async (key) => data.get(key) ?? null,
    put: async (key, value) => {
      data.set(key, value)
    },
  }
}

async function certificates(apiV3Key = V.APIV3_KEY): Promise<Answer> {
  const ciphertext = await aesGcmEncrypt(apiV3Key, 'certnonce123', 'certificate', V.WXPAY_CERT)
  return {
    status: 200,
    json: {
      data: [
        {
          serial_no: V.WXPAY_CERT_SERIAL,
          effective_time: '2026-01-01T00:00:00+08:00',
          expire_time: '2036-01-01T00:00:00+08:00',
          encrypt_certificate: {
            algorithm: 'AEAD_AES_256_GCM',
            nonce: 'certnonce123',
            associated_data: 'certificate',
            ciphertext,
          },
        },
      ],
    },
  }
}

/** A fresh host in certificate mode, and a stand-in signing as the platform certificate. */
function setup(options: { query?: Signing; certificates?: () => Promise<Answer> } = {}) {
  const host = `v3cert${++hosts}.wechat.test`
  const config = v3Config({
    WXPAY_API_BASE: `http://${host}`,
    WXPAY_PUBLIC_KEY_ID: undefined,
    WXPAY_PUBLIC_KEY: undefined,
  })
  const wx = standIn(
    {
      'GET /v3/certificates': options.certificates ?? (() => certificates()),
      'GET /v3/pay/transactions/out-trade-no/*': () => ({
        status: 200,
        json: TRANSACTION,
        signing: options.query ?? 'ok',
      }),
    },
    { serial: V.WXPAY_CERT_SERIAL },
  )
  route(host, wx.handler)
  const downloads = () => wx.seen.filter((s) => s.target === '/v3/certificates').length
  return { config, wx, downloads }
}

const query = (client: ReturnType<typeof createV3Client>) =>
  client.call('/pay/orderquery', { out_trade_no: 'ORD20260101000001' })

describe('platform-certificate mode', () => {
  it('downloads the certificates once, verifies replies with them and keeps them in KV and in the isolate', async () => {
    const { config, wx, downloads } = setup()
    const kv = memoryKv()
    expect(await query(createV3Client({ config, kv }))).toMatchObject({ trade_state: 'SUCCESS' })
    expect(await query(createV3Client({ config, kv }))).toMatchObject({ trade_state: 'SUCCESS' })
    expect(downloads()).toBe(1)
    // No Wechatpay-Serial in certificate mode: WeChat picks the platform certificate.
    expect(wx.seen.every((s) => !s.headers.has('wechatpay-serial'))).toBe(true)
    expect(JSON.parse(kv.data.get(CERTIFICATES_KEY) ?? '[]')).toEqual([
      expect.objectContaining({ serial_no: V.WXPAY_CERT_SERIAL, pem: V.WXPAY_CERT }),
    ])
  })

  it('shares one download among replies that arrive at once', async () => {
    const { config, downloads } = setup()
    const kv = memoryKv()
    const replies = await Promise.all(Array.from({ length: 6 }, () => query(createV3Client({ config, kv }))))
    expect(replies.map((reply) => reply.trade_state)).toEqual(Array(6).fill('SUCCESS'))
    expect(downloads()).toBe(1)
  })

  it('uses the certificates another isolate left in KV without downloading', async () => {
    const first = setup()
    const kv = memoryKv()
    await query(createV3Client({ config: first.config, kv }))
    const second = setup()
    await query(createV3Client({ config: second.config, kv }))
    expect(second.downloads()).toBe(0)
  })

  it('asks again for an unknown serial at most once a minute', async () => {
    const logs = captureLogs()
    const { config, downloads } = setup({ query: 'unknown_serial' })
    const kv = memoryKv()
    for (let i = 0; i < 3; i++)
      expect(((await query(createV3Client({ config, kv })).catch((e) => e)) as PayError).failure.kind).toBe('upstream')
    expect(downloads()).toBe(1)
    const later = () => Date.now() + 61_000
    await query(createV3Client({ config, kv, now: later })).catch(() => undefined)
    expect(downloads()).toBe(2)
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'wechat_reply_rejected', reason: 'unknown_serial' }))
  })

  it.each([
    ['sealed under another APIv3 key', () => certificates('TestAPIv3Key0123456789abcdefABCE'), /does not decrypt/],
    [
      'signed by a serial it does not carry',
      async () => ({ ...(await certificates()), signing: 'unknown_serial' as const }),
      /verification/,
    ],
    [
      'signed by another key',
      async () => ({ ...(await certificates()), signing: 'wrong_key' as const }),
      /verification/,
    ],
  ])('refuses certificates %s', async (_, answer, message) => {
    captureLogs()
    const { config } = setup({ certificates: answer })
    const error = (await query(createV3Client({ config, kv: memoryKv() })).catch((e) => e)) as PayError
    expect(error.failure.kind).toBe('upstream')
    expect(error.message).toMatch(message)
  })
})
