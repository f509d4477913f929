/**
 * @module
 * v2 signing against the official vectors (reference §2.4) and the rules of 安全规范 (§2.1–2.3).
 * Runs in workerd, whose WebCrypto has MD5.
 */
import { describe, expect, it } from 'vitest'
import {
  constantTimeEqual,
  hmacSha256Hex,
  type SignType,
  sign,
  signString,
  signTypeOf,
  verify,
} from '../../src/wechat/sign'
import { decode } from '../../src/wechat/xml'
import { SIGNED_EXAMPLE } from './samples'

const DOC_KEY = '192006250b4c09247ec02edce69f6a2d'
const PAY_KEY = 'qazwsxedcrfvtgbyhnujmikolp111111'
const DOC_FIELDS = {
  appid: 'wxd930ea5d5a258f4f',
  mch_id: '10000100',
  device_info: '1000',
  body: 'test',
  nonce_str: 'ibuaiVcKdpRxkhJA',
}
const JSAPI_FIELDS = {
  appId: 'wx619a931576afe069',
  nonceStr: 'RIPb5Upk3ku7knU6',
  package: 'prepay_id=wx2611334392677180ea59742b3744840000',
  timeStamp: '1774495197',
}

describe('sign: official vectors (reference §2.4)', () => {
  const vectors: { name: string; fields: Record<string, string>; key: string; type: SignType; expected: string }[] = [
    {
      name: '#1 安全规范 MD5',
      fields: DOC_FIELDS,
      key: DOC_KEY,
      type: 'MD5',
      expected: '9A0A8659F005D6984697E2CA0A9CF3B7',
    },
    {
      name: '#2 安全规范 HMAC-SHA256',
      fields: DOC_FIELDS,
      key: DOC_KEY,
      type: 'HMAC-SHA256',
      expected: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    },
    {
      name: '#3 mini program requestPayment MD5',
      fields: {
        appId: 'wxd678efh567hg6787',
        nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
        package: 'prepay_id=wx2017033010242291fcfe0db70013231072',
        signType: 'MD5',
        timeStamp: '1490840662',
      },
      key: PAY_KEY,
      type: 'MD5',
      expected: '22D9B4E54AB1950F51E0649E8810ACD6',
    },
    {
      name: '#4 JSAPI getBrandWCPayRequest MD5',
      fields: { ...JSAPI_FIELDS, signType: 'MD5' },
      key: PAY_KEY,
      type: 'MD5',
      expected: '1F2E9533D7D483FBCDBD0B9BCA76F97D',
    },
    {
      name: '#5 JSAPI getBrandWCPayRequest HMAC-SHA256 (signType is in the signed string)',
      fields: { ...JSAPI_FIELDS, signType: 'HMAC-SHA256' },
      key: PAY_KEY,
      type: 'HMAC-SHA256',
      expected: '4A04CF5B979A4920409A9DEF2322C33C96DE8E9A96830E648719C60EF991700E',
    },
  ]

  it.each(vectors)('reproduces vector $name', async ({ fields, key, type, expected }) => {
    expect(await sign(fields, key, type)).toBe(expected)
    expect(await verify({ ...fields, sign: expected }, key, type)).toBe(true)
  })

  it('verifies the signed XML that 安全规范 prints for vector #1', async () => {
    const fields = decode(SIGNED_EXAMPLE.xml)
    expect(await verify(fields, SIGNED_EXAMPLE.key)).toBe(true)
    expect(await verify({ ...fields, body: 'test ' }, SIGNED_EXAMPLE.key)).toBe(false)
  })

  it('builds the exact stringSignTemp of vector #1', () => {
    expect(signString(DOC_FIELDS, DOC_KEY)).toBe(
      'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA' +
        '&key=192006250b4c09247ec02edce69f6a2d',
    )
  })
})

describe('signString: which fields and how (安全规范 §2.1)', () => {
  const cases: { rule: string; fields: Record<string, string | undefined>; expected: string }[] = [
    { rule: 'leaves out the sign field', fields: { a: '1', sign: 'ABC' }, expected: 'a=1&key=K' },
    { rule: 'leaves out empty and undefined values', fields: { a: '', b: '2', c: undefined }, expected: 'b=2&key=K' },
    { rule: 'keeps "0"', fields: { total_fee: '0' }, expected: 'total_fee=0&key=K' },
    { rule: 'keeps white space without trimming', fields: { a: ' ', b: ' x\t' }, expected: 'a= &b= x\t&key=K' },
    {
      rule: 'sorts names by byte order, case-sensitively',
      fields: { a: '3', B: '2', A: '1' },
      expected: 'A=1&B=2&a=3&key=K',
    },
    {
      rule: 'sorts a prefix before its extensions',
      fields: { coupon_id_0: '2', coupon: '1' },
      expected: 'coupon=1&coupon_id_0=2&key=K',
    },
    {
      rule: 'sorts "_" after upper case and digits',
      fields: { a_b: '3', aB: '2', a0: '1' },
      expected: 'a0=1&aB=2&a_b=3&key=K',
    },
    {
      rule: 'uses values raw: no URL-encoding of &, = or CJK',
      fields: { attach: 'x=1&y=2', body: '支付测试 %20' },
      expected: 'attach=x=1&y=2&body=支付测试 %20&key=K',
    },
    { rule: 'is just the key for no fields', fields: {}, expected: 'key=K' },
  ]

  it.each(cases)('$rule', ({ fields, expected }) => {
    expect(signString(fields, 'K')).toBe(expected)
  })

  it('hashes the UTF-8 bytes of CJK and raw values (known answers)', async () => {
    const fields = { body: ' 商品 ', attach: '支付测试&x=1' }
    expect(signString(fields, DOC_KEY)).toBe(`attach=支付测试&x=1&body= 商品 &key=${DOC_KEY}`)
    expect(await sign(fields, DOC_KEY, 'MD5')).toBe('7F052E62D7A3E9D98E0F8C34627EB4DA')
    expect(await sign(fields, DOC_KEY, 'HMAC-SHA256')).toBe(
      '14132C8C398FC773FD61AAE33B7CECC79622B07F10D654C3C28B42134140FC07',
    )
  })

  it('gives the same signature whether an empty field is present or not', async () => {
    const withEmpty = { ...DOC_FIELDS, attach: '', sign: 'anything' }
    expect(await sign(withEmpty, DOC_KEY, 'MD5')).toBe('9A0A8659F005D6984697E2CA0A9CF3B7')
  })
})

describe('verify', () => {
  const MD5_SIGN = '9A0A8659F005D6984697E2CA0A9CF3B7'
  const HMAC_SIGN = '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6'
  const signed = { ...DOC_FIELDS, sign: MD5_SIGN }
  const { body: _removed, ...withoutBody } = signed

  it.each([
    { case: 'the right MD5 signature', fields: signed, type: 'MD5' as const },
    { case: 'the right HMAC signature', fields: { ...DOC_FIELDS, sign: HMAC_SIGN }, type: 'HMAC-SHA256' as const },
    { case: 'a lower-case hex signature', fields: { ...signed, sign: MD5_SIGN.toLowerCase() }, type: 'MD5' as const },
    { case: 'an MD5 signature by its length alone', fields: signed, type: undefined },
    { case: 'an HMAC signature by its length alone', fields: { ...DOC_FIELDS, sign: HMAC_SIGN }, type: undefined },
  ])('accepts $case', async ({ fields, type }) => {
    expect(await verify(fields, DOC_KEY, type)).toBe(true)
  })

  it.each([
    { case: 'a changed field', fields: { ...signed, body: 'test2' }, key: DOC_KEY },
    { case: 'a field changed only by trailing space', fields: { ...signed, body: 'test ' }, key: DOC_KEY },
    { case: 'an added field', fields: { ...signed, attach: 'x' }, key: DOC_KEY },
    { case: 'a removed field', fields: withoutBody, key: DOC_KEY },
    { case: 'a wrong key', fields: signed, key: PAY_KEY },
    { case: 'a key differing in case', fields: signed, key: DOC_KEY.toUpperCase() },
    {
      case: 'an HMAC signature claimed as MD5',
      fields: { ...DOC_FIELDS, sign_type: 'MD5', sign: HMAC_SIGN },
      key: DOC_KEY,
    },
    { case: 'a truncated signature', fields: { ...signed, sign: MD5_SIGN.slice(0, 31) }, key: DOC_KEY },
    { case: 'a signature with an extra character', fields: { ...signed, sign: `${MD5_SIGN}0` }, key: DOC_KEY },
    { case: 'garbage', fields: { ...signed, sign: '<script>ß\u0000☃' }, key: DOC_KEY },
    { case: 'an empty signature', fields: { ...signed, sign: '' }, key: DOC_KEY },
    { case: 'a missing signature', fields: { ...DOC_FIELDS }, key: DOC_KEY },
    { case: 'an unknown sign_type', fields: { ...signed, sign_type: 'SHA1' }, key: DOC_KEY },
    { case: 'a sign_type in the wrong case', fields: { ...signed, sign_type: 'md5' }, key: DOC_KEY },
  ])('rejects $case without throwing', async ({ fields, key }) => {
    expect(await verify(fields, key)).toBe(false)
  })

  it('rejects a signature of the other algorithm when the type is given', async () => {
    expect(await verify({ ...DOC_FIELDS, sign: HMAC_SIGN }, DOC_KEY, 'MD5')).toBe(false)
    expect(await verify({ ...DOC_FIELDS, sign: MD5_SIGN }, DOC_KEY, 'HMAC-SHA256')).toBe(false)
  })

  it('lets sign_type choose the algorithm over the signature length', async () => {
    const fields = { ...DOC_FIELDS, sign_type: 'HMAC-SHA256' }
    const hmac = await sign(fields, DOC_KEY, 'HMAC-SHA256')
    const md5 = await sign(fields, DOC_KEY, 'MD5')
    expect(await verify({ ...fields, sign: hmac }, DOC_KEY)).toBe(true)
    expect(await verify({ ...fields, sign: md5 }, DOC_KEY)).toBe(false)
  })

  it('includes sign_type in the signed string (WxJava#1407)', async () => {
    const fields = { ...DOC_FIELDS, sign_type: 'MD5' }
    expect(signString(fields, 'K')).toContain('&sign_type=MD5&')
    const withType = await sign(fields, DOC_KEY, 'MD5')
    expect(withType).not.toBe(MD5_SIGN)
    expect(await verify({ ...fields, sign: withType }, DOC_KEY)).toBe(true)
    expect(await verify({ ...fields, sign: MD5_SIGN }, DOC_KEY)).toBe(false)
  })
})

describe('signTypeOf', () => {
  it.each<{ fields: Record<string, string>; expected: SignType | undefined }>([
    { fields: { sign_type: 'MD5', sign: 'x'.repeat(64) }, expected: 'MD5' },
    { fields: { sign_type: 'HMAC-SHA256', sign: 'x'.repeat(32) }, expected: 'HMAC-SHA256' },
    { fields: { sign: 'x'.repeat(32) }, expected: 'MD5' },
    { fields: { sign: 'x'.repeat(64) }, expected: 'HMAC-SHA256' },
    { fields: { sign: 'x'.repeat(40) }, expected: undefined },
    { fields: {}, expected: undefined },
    { fields: { sign_type: 'HMAC-SHA1', sign: 'x'.repeat(64) }, expected: undefined },
  ])('reads $expected from $fields', ({ fields, expected }) => {
    expect(signTypeOf(fields)).toBe(expected)
  })
})

describe('constantTimeEqual', () => {
  it.each([
    { a: 'ABC', b: 'ABC', expected: true },
    { a: '', b: '', expected: true },
    { a: 'ABC', b: 'ABD', expected: false },
    { a: 'ABC', b: 'abc', expected: false },
    { a: 'ABC', b: 'ABCD', expected: false },
    { a: 'ABCD', b: 'ABC', expected: false },
    { a: '', b: 'A', expected: false },
    { a: 'é', b: 'e\u0301', expected: false },
  ])('compares "$a" and "$b" as $expected', ({ a, b, expected }) => {
    expect(constantTimeEqual(a, b)).toBe(expected)
  })
})

describe('hmacSha256Hex', () => {
  it('matches RFC 4231 test case 2 in lower-case hex', async () => {
    expect(await hmacSha256Hex('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  it('keys by the secret, not by the message', async () => {
    const one = await hmacSha256Hex('secret-one', 'message')
    expect(await hmacSha256Hex('secret-two', 'message')).not.toBe(one)
    expect(await hmacSha256Hex('secret-one', 'message')).toBe(one)
  })

  it('stays correct after more secrets than the key cache holds', async () => {
    const secrets = Array.from({ length: 12 }, (_, i) => `secret-${i}`)
    const first = await Promise.all(secrets.map((secret) => hmacSha256Hex(secret, 'message')))
    expect(new Set(first).size).toBe(secrets.length)
    expect(await Promise.all(secrets.map((secret) => hmacSha256Hex(secret, 'message')))).toEqual(first)
    expect(await hmacSha256Hex('Jefe', 'what do ya want for nothing?')).toMatch(/^5bdcc146/)
  })
})
