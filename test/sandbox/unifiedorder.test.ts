/** 统一下单 as the sandbox plays it: required fields, formats, trade types, re-entry. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { call, dev, expectRefused, expectSigned, lookup, nonceStr, order } from './client'

afterEach(() => {
  vi.restoreAllMocks()
})

/** Beijing time of `ms` as yyyyMMddHHmmss, computed independently of the sandbox. */
function beijing(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

describe('required fields', () => {
  it.each(['nonce_str', 'body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type'])(
    'refuses an order without %s with LACK_PARAMS',
    async (name) => {
      await expectRefused(await call('/pay/unifiedorder', order({ [name]: undefined })), 'LACK_PARAMS')
    },
  )

  it('treats an empty value as missing', async () => {
    await expectRefused(await call('/pay/unifiedorder', order({ body: '' })), 'LACK_PARAMS')
  })

  it.each([
    ['JSAPI', { openid: undefined }],
    ['NATIVE', { product_id: undefined }],
    ['MWEB', { scene_info: undefined }],
  ])('refuses %s without the field it needs with LACK_PARAMS', async (tradeType, overrides) => {
    const fields = order({
      trade_type: tradeType,
      product_id: 'p1',
      scene_info: '{"h5_info":{"type":"Wap"}}',
      ...overrides,
    })
    await expectRefused(await call('/pay/unifiedorder', fields), 'LACK_PARAMS')
  })
})

describe('field formats', () => {
  it.each([
    ['total_fee 0', { total_fee: '0' }],
    ['a negative total_fee', { total_fee: '-1' }],
    ['a fractional total_fee', { total_fee: '1.5' }],
    ['a total_fee in yuan with a leading zero', { total_fee: '0.01' }],
    ['a non-numeric total_fee', { total_fee: 'ten' }],
    ['a total_fee above Int', { total_fee: '2147483648' }],
    ['an unknown trade_type', { trade_type: 'MICROPAY' }],
    ['a nonce_str over 32 characters', { nonce_str: 'n'.repeat(33) }],
    ['an out_trade_no over 32 characters', { out_trade_no: `o${'1'.repeat(32)}` }],
    ['an out_trade_no with other characters', { out_trade_no: 'order#1' }],
    ['a body over 128 characters', { body: 'b'.repeat(129) }],
    ['a fee_type other than CNY', { fee_type: 'USD' }],
    ['a notify_url with parameters', { notify_url: 'https://shop.test/notify?order=1' }],
    ['a notify_url that is not a URL', { notify_url: 'shop.test/notify' }],
    ['an spbill_create_ip that is not an IP', { spbill_create_ip: 'localhost' }],
    ['a time_expire that is not a date', { time_expire: '20250230120000' }],
    ['a time_expire less than a minute ahead', { time_expire: beijing(Date.now() + 30_000) }],
    ['a detail that is not JSON', { detail: '{goods' }],
  ])('refuses %s with INVALID_REQUEST', async (_, overrides) => {
    await expectRefused(await call('/pay/unifiedorder', order(overrides)), 'INVALID_REQUEST')
  })

  it.each([
    ['a 32-character nonce_str', { nonce_str: 'n'.repeat(32) }],
    ['an out_trade_no of every allowed character', { out_trade_no: `aZ09_-|*${Date.now()}` }],
    ['an IPv6 spbill_create_ip', { spbill_create_ip: '2001:db8::1' }],
    ['a time_expire an hour ahead', { time_expire: beijing(Date.now() + 3600_000) }],
    ['fee_type CNY', { fee_type: 'CNY' }],
  ])('accepts %s', async (_, overrides) => {
    const reply = await call('/pay/unifiedorder', order(overrides))
    expect(reply.result_code).toBe('SUCCESS')
  })
})

describe('new orders', () => {
  it('creates a NOTPAY order with a prepay_id stamped in Beijing time', async () => {
    const before = Date.now()
    const fields = order({ device_info: 'WEB' })
    const reply = await call('/pay/unifiedorder', fields)
    await expectSigned(reply, 'HMAC-SHA256')
    expect(reply).toMatchObject({ result_code: 'SUCCESS', trade_type: 'JSAPI', device_info: 'WEB' })
    expect(reply.prepay_id).toMatch(/^wx[0-9]{14}[0-9a-f]{20}$/)
    expect(Number(reply.prepay_id?.slice(2, 16))).toBeGreaterThanOrEqual(Number(beijing(before)))
    expect(reply.code_url).toBeUndefined()
    const query = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }))
    expect(query).toMatchObject({ trade_state: 'NOTPAY', total_fee: '100' })
  })

  it('gives NATIVE orders a code_url', async () => {
    const reply = await call(
      '/pay/unifiedorder',
      order({ trade_type: 'NATIVE', product_id: 'sku-1', openid: undefined }),
    )
    await expectSigned(reply, 'HMAC-SHA256')
    expect(reply.trade_type).toBe('NATIVE')
    expect(reply.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=[A-Za-z0-9]+$/)
    expect(reply.mweb_url).toBeUndefined()
  })

  it('gives MWEB orders an mweb_url for their prepay_id', async () => {
    const scene = '{"h5_info":{"type":"Wap","wap_url":"https://shop.test","wap_name":"shop"}}'
    const reply = await call('/pay/unifiedorder', order({ trade_type: 'MWEB', scene_info: scene, openid: undefined }))
    await expectSigned(reply, 'HMAC-SHA256')
    const url = new URL(reply.mweb_url ?? '')
    expect(url.origin + url.pathname).toBe('https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb')
    expect(url.searchParams.get('prepay_id')).toBe(reply.prepay_id)
    expect(url.searchParams.get('package')).toMatch(/^[0-9]+$/)
  })

  it('gives APP orders neither URL', async () => {
    const reply = await call('/pay/unifiedorder', order({ trade_type: 'APP', openid: undefined }))
    expect(reply).toMatchObject({ result_code: 'SUCCESS', trade_type: 'APP' })
    expect(reply.code_url ?? reply.mweb_url).toBeUndefined()
  })
})

describe('re-entry with the same out_trade_no', () => {
  it('returns the same prepay_id for the same parameters, whatever nonce_str and time_start', async () => {
    const fields = order({ trade_type: 'NATIVE', product_id: 'sku-1', openid: undefined })
    const first = await call('/pay/unifiedorder', { ...fields, time_start: beijing(Date.now()) })
    const again = await call('/pay/unifiedorder', {
      ...fields,
      nonce_str: nonceStr(),
      time_start: beijing(Date.now() + 5000),
    })
    await expectSigned(again, 'HMAC-SHA256')
    expect(again.result_code).toBe('SUCCESS')
    expect(again.prepay_id).toBe(first.prepay_id)
    expect(again.code_url).toBe(first.code_url)
  })

  it.each([
    ['another total_fee', { total_fee: '101' }],
    ['another body', { body: '测试商店-别的商品' }],
    ['another openid', { openid: 'oUpF8uN95-Ptaags6E_roPHg7AG0' }],
    ['another spbill_create_ip', { spbill_create_ip: '203.0.113.8' }],
    ['an added attach', { attach: 'x' }],
    ['a time_expire added later', { time_expire: beijing(Date.now() + 3600_000) }],
  ])('refuses %s with INVALID_REQUEST 201 商户订单号重复', async (_, overrides) => {
    const fields = order()
    await call('/pay/unifiedorder', fields)
    const reply = await call('/pay/unifiedorder', { ...fields, nonce_str: nonceStr(), ...overrides })
    await expectRefused(reply, 'INVALID_REQUEST')
    expect(reply.err_code_des).toBe('201 商户订单号重复')
  })

  it('refuses the same order signed with another sign type', async () => {
    const fields = order()
    await call('/pay/unifiedorder', fields, { signType: 'MD5' })
    await expectRefused(await call('/pay/unifiedorder', fields, { signType: 'HMAC-SHA256' }), 'INVALID_REQUEST')
  })

  it('issues a new prepay_id once the old one is two hours old', async () => {
    const fields = order()
    const first = await call('/pay/unifiedorder', fields)
    const later = Date.now() + 2 * 3600_000 + 1000
    vi.spyOn(Date, 'now').mockReturnValue(later)
    const again = await call('/pay/unifiedorder', { ...fields, nonce_str: nonceStr() })
    expect(again.result_code).toBe('SUCCESS')
    expect(again.prepay_id).not.toBe(first.prepay_id)
    expect(again.prepay_id?.slice(2, 16)).toBe(beijing(later))
  })

  it('refuses a paid order with ORDERPAID', async () => {
    const fields = order()
    await call('/pay/unifiedorder', fields)
    expect((await dev('/pay', { out_trade_no: fields.out_trade_no, sign_type_field: 'omit' })).status).toBe(200)
    await expectRefused(await call('/pay/unifiedorder', fields), 'ORDERPAID')
  })

  it('refuses a closed order with ORDERCLOSED', async () => {
    const fields = order()
    await call('/pay/unifiedorder', fields)
    await call('/pay/closeorder', lookup({ out_trade_no: fields.out_trade_no }))
    await expectRefused(await call('/pay/unifiedorder', fields), 'ORDERCLOSED')
  })
})
