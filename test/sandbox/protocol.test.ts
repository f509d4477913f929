/** The protocol gate every v2 endpoint shares: method, body, XML, signature, merchant, encoding. */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../src/app'
import { sign } from '../../src/wechat/sign'
import { encode } from '../../src/wechat/xml'
import { call, expectRefused, expectSigned, KEY, lookup, order, postRaw, signed, type WechatPath } from './client'

const PATHS: WechatPath[] = ['/pay/unifiedorder', '/pay/orderquery', '/pay/closeorder']

/** A protocol failure: return_code FAIL and return_msg, nothing else, and no sign. */
function expectProtocolFail(fields: Record<string, string>, returnMsg: string) {
  expect(fields).toEqual({ return_code: 'FAIL', return_msg: returnMsg })
}

describe('protocol failures answer return_code FAIL without a sign', () => {
  it.each(PATHS)('refuses GET on %s with 请使用post方法', async (path) => {
    expectProtocolFail((await postRaw(path, null, 'GET')).fields, '请使用post方法')
  })

  it.each(PATHS)('answers XML with Content-Type text/xml on %s', async (path) => {
    expect((await postRaw(path, '')).type).toMatch(/^text\/xml/)
  })

  it.each([
    ['an empty body', ''],
    ['a blank body', ' \n '],
  ])('refuses %s with post数据为空', async (_, body) => {
    expectProtocolFail((await postRaw('/pay/unifiedorder', body)).fields, 'post数据为空')
  })

  it.each([
    ['garbage', 'hello'],
    ['JSON', '{"appid":"x"}'],
    ['a DOCTYPE', '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><appid>&x;</appid></xml>'],
    ['a nested element', '<xml><a><b>1</b></a></xml>'],
    ['an unclosed root', '<xml><appid>x</appid>'],
  ])('refuses %s with XML格式错误', async (_, body) => {
    expectProtocolFail((await postRaw('/pay/orderquery', body)).fields, 'XML格式错误')
  })

  it('refuses bytes that are not UTF-8', async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('<xml><body>'),
      0xc3,
      0x28,
      ...new TextEncoder().encode('</body></xml>'),
    ])
    expectProtocolFail((await postRaw('/pay/unifiedorder', bytes)).fields, '编码格式错误')
  })

  it.each([
    [
      'signed with another key',
      { ...order(), sign_type: 'HMAC-SHA256' },
      'HMAC-SHA256',
      'another0key0another0key0another0',
    ],
    ['HMAC-signed without sign_type (absent means MD5)', order(), 'HMAC-SHA256', KEY],
    ['MD5-signed but declaring HMAC-SHA256', { ...order(), sign_type: 'HMAC-SHA256' }, 'MD5', KEY],
    ['HMAC-signed but declaring MD5', { ...order(), sign_type: 'MD5' }, 'HMAC-SHA256', KEY],
  ] as const)('refuses a request %s with 签名错误', async (_, fields, algorithm, key) => {
    const body = encode({ ...fields, sign: await sign(fields, key, algorithm) })
    expectProtocolFail((await postRaw('/pay/unifiedorder', body)).fields, '签名错误')
  })

  it('refuses a request without sign with 签名错误', async () => {
    expectProtocolFail((await postRaw('/pay/unifiedorder', encode(order()))).fields, '签名错误')
  })

  it('refuses a field changed after signing with 签名错误', async () => {
    const fields = { ...(await signed(order())), total_fee: '1' }
    expectProtocolFail((await postRaw('/pay/unifiedorder', encode(fields))).fields, '签名错误')
  })

  it('refuses an unknown sign_type', async () => {
    const fields = { ...order(), sign_type: 'SHA1' }
    const body = encode({ ...fields, sign: await sign(fields, KEY, 'MD5') })
    expect((await postRaw('/pay/unifiedorder', body)).fields.return_code).toBe('FAIL')
  })
})

describe('authentic requests', () => {
  it.each(['MD5', 'HMAC-SHA256'] as const)('accepts %s and signs the reply with the same type', async (signType) => {
    const reply = await call('/pay/unifiedorder', order(), { signType })
    await expectSigned(reply, signType)
    expect(reply).toMatchObject({ return_msg: 'OK', result_code: 'SUCCESS', appid: env.WXPAY_APPID })
    expect(reply.mch_id).toBe(env.WXPAY_MCH_ID)
    expect(reply.nonce_str).toMatch(/^[A-Za-z0-9]{1,32}$/)
    expect(reply.sign_type).toBeUndefined()
  })

  it('accepts MD5 declared explicitly', async () => {
    await expectSigned(await call('/pay/unifiedorder', order(), { signType: 'MD5', declare: true }), 'MD5')
  })

  it.each([
    ['an unknown mch_id', { mch_id: '10000101' }, 'MCHID_NOT_EXIST'],
    ['no mch_id', { mch_id: undefined }, 'MCHID_NOT_EXIST'],
    ['an appid not bound to the merchant', { appid: 'wx0000000000000000' }, 'APPID_MCHID_NOT_MATCH'],
    ['no appid', { appid: undefined }, 'APPID_NOT_EXIST'],
  ])('refuses %s', async (_, overrides, errCode) => {
    await expectRefused(await call('/pay/unifiedorder', order(overrides)), errCode)
    await expectRefused(await call('/pay/orderquery', lookup({ out_trade_no: 'x1', ...overrides })), errCode)
  })

  it('refuses 4-byte UTF-8 in any value with NOT_UTF8', async () => {
    // The codec will not encode such a value, so the XML is written by hand, signed as sent.
    const fields = { ...order(), attach: 'gift 🎁', sign_type: 'HMAC-SHA256' }
    const sent = { ...fields, sign: await sign(fields, KEY, 'HMAC-SHA256') }
    const body = `<xml>${Object.entries(sent)
      .map(([k, v]) => `<${k}>${v}</${k}>`)
      .join('')}</xml>`
    await expectRefused((await postRaw('/pay/unifiedorder', body)).fields, 'NOT_UTF8')
  })

  it('accepts CDATA and an XML declaration, signing over the decoded text', async () => {
    const fields = await signed(order({ attach: 'a<b & "c"' }))
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n${encode(fields)}`
    expect(body).toContain('CDATA')
    await expectSigned((await postRaw('/pay/unifiedorder', body)).fields, 'HMAC-SHA256')
  })
})

describe('configuration', () => {
  it('answers JSON 500 wxPayError.config when the SANDBOX binding is missing', async () => {
    const response = await app.request(
      '/sandbox/pay/orderquery',
      { method: 'POST', body: '' },
      { ...env, SANDBOX: undefined },
    )
    expect(response.status).toBe(500)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('wxPayError.config')
    expect(body.error.message).toMatch(/^SANDBOX KV binding is missing/)
  })
})
