/**
 * @module
 * The v3 client against the v3 sandbox (src/sandbox/v3), two implementations of the protocol
 * checking each other: the sandbox verifies the client's request signatures, the client verifies
 * the sandbox's replies with the configured WeChat Pay public key, and v2-shaped answers come back.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config'
import { createV3Client } from '../../../src/wechat/v3/client'
import { RefundQueryByOrderError } from '../../../src/wechat/v3/refunds'

// The first call wakes the sandbox (the Worker itself) on a shared machine: generous, never asserted.
const config = loadConfig({ ...env, WXPAY_API_VERSION: 'v3', WXPAY_TIMEOUT_MS: '20000' } as Env)
const wechat = () => createV3Client({ config })
const order = (no: string) => ({
  body: 'Test-商品',
  out_trade_no: no,
  total_fee: '101',
  spbill_create_ip: '203.0.113.7',
  notify_url: 'http://service.test/v1/pay/notify',
  trade_type: 'JSAPI',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
})

describe('the v3 client and the v3 sandbox', { timeout: 45_000 }, () => {
  it('places, queries and closes an order', async () => {
    const no = `V3SBX${Date.now()}`
    const placed = await wechat().call('/pay/unifiedorder', order(no))
    expect(placed).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', trade_type: 'JSAPI' })
    expect(placed.prepay_id).toMatch(/^wx/)
    expect(await wechat().call('/pay/orderquery', { out_trade_no: no })).toMatchObject({
      out_trade_no: no,
      trade_state: 'NOTPAY',
      appid: config.appid,
      mch_id: config.mchId,
    })
    expect(await wechat().call('/pay/closeorder', { out_trade_no: no })).toMatchObject({ result_code: 'SUCCESS' })
    expect((await wechat().call('/pay/orderquery', { out_trade_no: no })).trade_state).toBe('CLOSED')
  })

  it('answers ORDERNOTEXIST for an order never placed, and REFUNDNOTEXIST for a refund never asked', async () => {
    await expect(wechat().call('/pay/orderquery', { out_trade_no: `V3NONE${Date.now()}` })).rejects.toMatchObject({
      failure: { kind: 'wechat', errCode: 'ORDERNOTEXIST' },
    })
    await expect(wechat().call('/pay/refundquery', { out_refund_no: `RFNONE${Date.now()}` })).rejects.toMatchObject({
      failure: { kind: 'wechat', errCode: 'REFUNDNOTEXIST' },
    })
    await expect(wechat().call('/pay/refundquery', { out_trade_no: 'V3NONE' })).rejects.toBeInstanceOf(
      RefundQueryByOrderError,
    )
  })
})
