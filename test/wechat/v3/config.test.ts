/**
 * @module
 * WXPAY_API_VERSION=v3 settings: each validated by name (never by value), public-key mode or
 * certificate mode, WXPAY_API_KEY optional, an https PUBLIC_URL.
 */
import { describe, expect, it } from 'vitest'
import { PayError } from '../../../src/errors'
import { sign, verify } from '../../../src/wechat/sign'
import { v3Config } from '../../support/v3-standin'
import * as V from './vectors'

function refusal(overrides: Record<string, string | undefined>): string {
  try {
    v3Config(overrides)
  } catch (err) {
    expect(err).toBeInstanceOf(PayError)
    expect((err as PayError).failure.kind).toBe('config')
    return (err as PayError).message
  }
  throw new Error('expected a config error')
}

describe('v3 configuration', () => {
  it('reads public-key mode', () => {
    const config = v3Config()
    expect(config.apiVersion).toBe('v3')
    expect(config.v3).toEqual({
      mchSerial: V.MCH_SERIAL,
      privateKey: V.MERCHANT_KEY,
      apiV3Key: V.APIV3_KEY,
      publicKey: { id: V.PUB_KEY_ID, pem: V.WXPAY_PUB },
    })
  })

  it('reads certificate mode when neither public-key setting is set, and takes a PKCS#1 key', () => {
    const config = v3Config({
      WXPAY_PUBLIC_KEY_ID: undefined,
      WXPAY_PUBLIC_KEY: undefined,
      WXPAY_PRIVATE_KEY: V.DOC_PKCS1_KEY,
    })
    expect(config.v3?.publicKey).toBeUndefined()
  })

  it('stays v2 by default, without reading any v3 setting', () => {
    const config = v3Config({ WXPAY_API_VERSION: undefined, WXPAY_PRIVATE_KEY: 'junk' })
    expect(config).toMatchObject({ apiVersion: 'v2', v3: undefined })
  })

  it.each([
    [{ WXPAY_API_VERSION: 'v4' }, 'WXPAY_API_VERSION must be one of v2, v3'],
    [{ WXPAY_MCH_SERIAL: undefined }, 'WXPAY_MCH_SERIAL is not set'],
    [{ WXPAY_MCH_SERIAL: 'serial!' }, 'WXPAY_MCH_SERIAL must be'],
    [{ WXPAY_PRIVATE_KEY: undefined }, 'WXPAY_PRIVATE_KEY is not set (set it with `wrangler secret put`)'],
    [{ WXPAY_PRIVATE_KEY: V.MERCHANT_PUB }, 'WXPAY_PRIVATE_KEY must be the PEM text of apiclient_key.pem'],
    [{ WXPAY_APIV3_KEY: 'short' }, 'WXPAY_APIV3_KEY must be the 32-character APIv3 key'],
    [{ WXPAY_PUBLIC_KEY: undefined }, 'WXPAY_PUBLIC_KEY is not set: set both'],
    [{ WXPAY_PUBLIC_KEY_ID: undefined }, 'WXPAY_PUBLIC_KEY_ID is not set: set both'],
    [{ WXPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_x' }, 'WXPAY_PUBLIC_KEY_ID must be PUB_KEY_ID_ followed by digits'],
    [{ WXPAY_PUBLIC_KEY: V.MERCHANT_KEY }, 'WXPAY_PUBLIC_KEY must be the PEM text'],
    [{ PUBLIC_URL: 'http://pay.example.com' }, 'PUBLIC_URL must be an https URL under WXPAY_API_VERSION=v3'],
  ])('refuses %o by name', (overrides, message) => {
    const text = refusal(overrides)
    expect(text).toContain(message)
    for (const value of Object.values(overrides)) if (value && value.length > 8) expect(text).not.toContain(value)
  })

  it('takes WXPAY_API_KEY as optional: unset, no v2 signature verifies with the key in its place', async () => {
    const config = v3Config({ WXPAY_API_KEY: undefined, PUBLIC_URL: 'https://pay.example.com' })
    expect(config.publicUrl).toBe('https://pay.example.com')
    const fields = { out_trade_no: 'O1', return_code: 'SUCCESS' }
    // A forger would have to guess the key: the test bindings' v2 key does not verify.
    const forged = await sign(fields, 'test0key0test0key0test0key0test0', 'HMAC-SHA256')
    expect(await verify({ ...fields, sign: forged }, config.apiKey)).toBe(false)
    expect(config.apiKey).not.toBe('test0key0test0key0test0key0test0')
    expect(config.apiKey).toHaveLength(32)
  })
})
