/**
 * @module
 * RSA pay parameters (v3 reference §6.8, §6.9) against vectors B3 and B4, and the published A3
 * with the test key of merchant 1900007291.
 */
import { describe, expect, it } from 'vitest'
import { importPublicKey, rsaVerify } from '../../../src/wechat/v3/crypto'
import { appParams, jsapiParams } from '../../../src/wechat/v3/pay-sign'
import { v3Config } from '../../support/v3-standin'
import * as V from './vectors'

describe('pay parameters', () => {
  it('JSAPI: signType RSA, paySign = B3 over appId, timeStamp, nonceStr, package', async () => {
    const params = await jsapiParams(v3Config(), { prepayId: V.PREPAY, timeStamp: V.TS, nonceStr: V.NONCE })
    expect(params).toEqual({
      appId: V.APPID,
      timeStamp: V.TS,
      nonceStr: V.NONCE,
      package: `prepay_id=${V.PREPAY}`,
      signType: 'RSA',
      paySign: V.B3,
    })
  })

  it('JSAPI with the published test key (A3, appid wx2421b1c4370ec43b)', async () => {
    const config = v3Config({ WXPAY_APPID: 'wx2421b1c4370ec43b', WXPAY_PRIVATE_KEY: V.DOC_TEST_KEY })
    const params = await jsapiParams(config, { prepayId: V.PREPAY, timeStamp: V.DOC_TS, nonceStr: V.DOC_NONCE })
    expect(params.paySign).toBe(V.A3)
  })

  it('APP: sign = B4 over the bare prepay id; package Sign=WXPay and partnerid unsigned', async () => {
    const params = await appParams(v3Config(), { prepayId: V.PREPAY, timestamp: V.TS, noncestr: V.NONCE })
    expect(params).toEqual({
      appid: V.APPID,
      partnerid: V.MCHID,
      prepayid: V.PREPAY,
      package: 'Sign=WXPay',
      noncestr: V.NONCE,
      timestamp: V.TS,
      sign: V.B4,
    })
    const message = `${V.APPID}\n${V.TS}\n${V.NONCE}\n${V.PREPAY}\n`
    expect(await rsaVerify(await importPublicKey(V.MERCHANT_PUB), message, params.sign)).toBe(true)
  })

  it('refuses under a v2 configuration', async () => {
    await expect(
      jsapiParams(v3Config({ WXPAY_API_VERSION: 'v2' }), { prepayId: V.PREPAY, timeStamp: V.TS, nonceStr: V.NONCE }),
    ).rejects.toThrow(/not v3/)
  })
})
