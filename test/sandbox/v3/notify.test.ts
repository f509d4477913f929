/** v3 payment notifications (v3 reference §5): signed JSON, the resource sealed with the APIv3 key, retried. */
import { describe, expect, it } from 'vitest'
import { aesGcmDecrypt } from '../../../src/wechat/v3/crypto'
import { call, dev, jsapiBody, opened, type Received, shop, signedBy, waitFor, warmUp } from '../../support/v3'
import { APIV3_KEY, PUBLIC_KEY_ID } from '../../support/v3-keys'

warmUp()

async function paidOrder(overrides: Record<string, unknown> = {}) {
  const body = jsapiBody({ notify_url: 'https://shop.test/v1/pay/notify', attach: 'cart=42', ...overrides })
  expect((await call('POST', '/v3/pay/transactions/jsapi', { json: body })).status).toBe(200)
  return body
}

describe('TRANSACTION.SUCCESS', () => {
  it('is signed JSON whose resource decrypts, with the APIv3 key, to the order as a query shows it', async () => {
    const received = shop()
    const body = await paidOrder()
    const paid = await dev('/pay', { out_trade_no: body.out_trade_no })
    expect(paid.status).toBe(200)
    expect(received).toHaveLength(1)
    const [notification] = received as [Received]
    expect(notification.headers.get('content-type')).toBe('application/json')
    expect(notification.headers.get('wechatpay-serial')).toBe(PUBLIC_KEY_ID)
    expect(await signedBy(notification)).toBe(true)
    expect(notification.json).toMatchObject({
      event_type: 'TRANSACTION.SUCCESS',
      resource_type: 'encrypt-resource',
      summary: '支付成功',
      resource: { algorithm: 'AEAD_AES_256_GCM', original_type: 'transaction', associated_data: 'transaction' },
    })
    expect(notification.json.id).toHaveLength(36)
    expect((notification.json.resource as { nonce: string }).nonce).toHaveLength(12)
    const transaction = await opened(notification)
    const queried = await call('GET', `/v3/pay/transactions/out-trade-no/${body.out_trade_no}?mchid=${body.mchid}`)
    expect(transaction).toEqual(queried.json)
    expect(transaction).toMatchObject({ trade_state: 'SUCCESS', attach: 'cart=42', amount: { total: 100 } })
  })

  it('does not open with another APIv3 key, or as a refund (associated_data)', async () => {
    const received = shop()
    const body = await paidOrder()
    await dev('/pay', { out_trade_no: body.out_trade_no })
    const [notification] = received as [Received]
    await expect(opened(notification, 'AnotherAPIv3Key0123456789abcdefA')).rejects.toThrow(
      'AES-GCM authentication failed',
    )
    const resource = notification.json.resource as { nonce: string; associated_data: string; ciphertext: string }
    await expect(aesGcmDecrypt(APIV3_KEY, { ...resource, associated_data: 'refund' })).rejects.toThrow()
  })

  it('is retried on SANDBOX_NOTIFY_SCHEDULE until the shop answers 200 or 204, each attempt signed afresh', async () => {
    const received = shop((n) =>
      n < 3
        ? new Response('{"code":"FAIL","message":"失败"}', { status: n === 1 ? 500 : 202 })
        : new Response('', { status: 200 }),
    )
    const body = await paidOrder()
    const paid = await dev('/pay', { out_trade_no: body.out_trade_no })
    expect(paid.body.data.notification).toMatchObject({
      delivered: false,
      attempts: [{ n: 1, ok: false, status: 500 }],
    })
    const order = await waitFor(body.out_trade_no, (o) => (o.notification as { delivered: boolean }).delivered)
    expect((order.notification as { attempts: unknown[] }).attempts).toEqual([
      expect.objectContaining({ n: 1, ok: false, status: 500 }),
      expect.objectContaining({ n: 2, ok: false, status: 202 }),
      expect.objectContaining({ n: 3, ok: true, status: 200 }),
    ])
    expect(received).toHaveLength(3)
    // One notification (one id, one body), three signatures.
    expect(new Set(received.map((r) => r.text)).size).toBe(1)
    expect(new Set(received.map((r) => r.headers.get('wechatpay-nonce'))).size).toBe(3)
    for (const delivery of received) expect(await signedBy(delivery)).toBe(true)
  })
})
