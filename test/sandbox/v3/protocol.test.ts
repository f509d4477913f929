/** The v3 sandbox's gate (v3 reference §3, §4, §7): who may call, and how every reply is signed. */
import { describe, expect, it } from 'vitest'
import { importPublicKey } from '../../../src/wechat/v3/crypto'
import { call, jsapiBody, MCH_ID, signedBy, warmUp } from '../../support/v3'
import { CERTIFICATE_SERIAL, MCH_SERIAL, PUBLIC_KEY_ID, SANDBOX_CERTIFICATE } from '../../support/v3-keys'
import { DOC_TEST_KEY, MERCHANT_PUB } from '../../wechat/v3/vectors'

const JSAPI = '/v3/pay/transactions/jsapi'

warmUp()

describe('a correctly signed request', () => {
  it('is answered 200, signed with the WeChat Pay key under the public key ID it asked for', async () => {
    const reply = await call('POST', JSAPI, { json: jsapiBody() })
    expect(reply.status).toBe(200)
    expect(reply.json.prepay_id).toMatch(/^wx\d{14}[0-9a-f]{20}$/)
    expect(reply.headers.get('wechatpay-serial')).toBe(PUBLIC_KEY_ID)
    expect(reply.headers.get('wechatpay-signature-type')).toBe('WECHATPAY2-SHA256-RSA2048')
    expect(reply.headers.get('request-id')).toBeTruthy()
    expect(await signedBy(reply)).toBe(true)
    // The signature covers the exact body: the same headers over another body do not verify.
    expect(await signedBy({ headers: reply.headers, text: `${reply.text} ` })).toBe(false)
  })

  it('is answered under the platform certificate when it names the certificate serial', async () => {
    const reply = await call('POST', JSAPI, { json: jsapiBody(), wechatpaySerial: CERTIFICATE_SERIAL })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('wechatpay-serial')).toBe(CERTIFICATE_SERIAL)
    // Verified with the key inside the certificate, as a service in certificate mode does.
    expect(await signedBy(reply, await importPublicKey(SANDBOX_CERTIFICATE))).toBe(true)
    expect(await signedBy(reply, await importPublicKey(MERCHANT_PUB))).toBe(false)
  })

  it('without Wechatpay-Serial is answered in the merchant’s mode (public key here)', async () => {
    const reply = await call('POST', JSAPI, { json: jsapiBody(), wechatpaySerial: null })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('wechatpay-serial')).toBe(PUBLIC_KEY_ID)
  })

  it('may carry Content-Type with a charset, as the PHP and Node SDKs send it', async () => {
    const reply = await call('POST', JSAPI, {
      json: jsapiBody(),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    })
    expect(reply.status).toBe(200)
  })
})

describe('refusals, each signed and in WeChat’s error shape', () => {
  const now = Math.floor(Date.now() / 1000)
  it.each([
    ['no Accept', { headers: { accept: null } }, 400, 'INVALID_REQUEST'],
    ['no User-Agent', { headers: { 'user-agent': null } }, 400, 'INVALID_REQUEST'],
    [
      'a body sent as text/plain (a Worker fetch’s default)',
      { headers: { 'content-type': 'text/plain;charset=UTF-8' } },
      400,
      'INVALID_REQUEST',
    ],
    ['no Authorization', { headers: { authorization: null } }, 401, 'SIGN_ERROR'],
    ['another scheme', { headers: { authorization: 'WECHATPAY2-SHA256-RSA4096 mchid="1"' } }, 401, 'SIGN_ERROR'],
    ['a signature by another key', { key: DOC_TEST_KEY }, 401, 'SIGN_ERROR'],
    ['a probe signature', { signature: 'WECHATPAY/SIGNTEST/dGVzdA==' }, 401, 'SIGN_ERROR'],
    ['a timestamp 6 minutes old', { timestamp: now - 360 }, 401, 'SIGN_ERROR'],
    ['a timestamp 6 minutes ahead', { timestamp: now + 360 }, 401, 'SIGN_ERROR'],
    ['another mchid', { mchid: '1900007291' }, 401, 'SIGN_ERROR'],
    ['another certificate serial', { serial: '408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB' }, 401, 'SIGN_ERROR'],
    ['the path signed with the sandbox prefix', { signedTarget: `/sandbox${JSAPI}` }, 401, 'SIGN_ERROR'],
    [
      'an unknown Wechatpay-Serial',
      { wechatpaySerial: 'PUB_KEY_ID_0000000000000000000000000000000002' },
      400,
      'PARAM_ERROR',
    ],
  ] as const)('%s', async (_, options, status, code) => {
    const reply = await call('POST', JSAPI, { json: jsapiBody(), ...options })
    expect(reply.status).toBe(status)
    expect(reply.json).toMatchObject({ code, message: expect.any(String) })
    expect(await signedBy(reply)).toBe(true)
  })

  it('a timestamp 4 minutes old is still accepted', async () => {
    const reply = await call('POST', JSAPI, { json: jsapiBody(), timestamp: now - 240 })
    expect(reply.status).toBe(200)
  })

  it('a body changed after signing', async () => {
    const body = jsapiBody()
    const sendInstead = JSON.stringify({ ...body, amount: { total: 1, currency: 'CNY' } })
    const reply = await call('POST', JSAPI, { json: body, sendInstead })
    expect(reply.status).toBe(401)
    expect(reply.json.code).toBe('SIGN_ERROR')
  })

  it('a body that is not JSON is PARAM_ERROR, after the signature holds', async () => {
    const reply = await call('POST', JSAPI, { body: '{"appid":' })
    expect(reply.status).toBe(400)
    expect(reply.json.code).toBe('PARAM_ERROR')
  })

  it('a GET that signs a query other than the one sent', async () => {
    const target = `/v3/pay/transactions/out-trade-no/NOSUCHORDER?mchid=${MCH_ID}`
    const reply = await call('GET', target, { signedTarget: '/v3/pay/transactions/out-trade-no/NOSUCHORDER' })
    expect(reply.status).toBe(401)
    expect(reply.json.detail).toMatchObject({ field: 'signature', location: 'authorization' })
  })

  it('an unknown path is 404, signed', async () => {
    const reply = await call('GET', '/v3/pay/nothing-here')
    expect(reply.status).toBe(404)
    expect(await signedBy(reply)).toBe(true)
  })

  it('a merchant serial in lower case is the same serial', async () => {
    const reply = await call('POST', JSAPI, { json: jsapiBody(), serial: MCH_SERIAL.toLowerCase() })
    expect(reply.status).toBe(200)
  })
})
