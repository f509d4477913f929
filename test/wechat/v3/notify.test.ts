/**
 * @module
 * v3 notifications: the published-style vector B5 read end to end, then one refusal per way a
 * notification can be wrong (signature, serial, clock, probe, key, ciphertext, event, merchant,
 * amount, currency, state), and the refund notices of REFUND.*.
 */
import { describe, expect, it } from 'vitest'
import { createV3Client } from '../../../src/wechat/v3/client'
import { acknowledged, isV3Notification, readNotification, refused } from '../../../src/wechat/v3/notify'
import { notification, type Signing, v3Config } from '../../support/v3-standin'
import * as V from './vectors'
import { flipBit } from './vectors'

const config = v3Config()
const keys = createV3Client({ config }).keys
const TRANSACTION = JSON.parse(V.B5_PLAIN) as Record<string, unknown>
const REFUND = JSON.parse(V.B6_PLAIN) as Record<string, unknown>
const read = (message: { headers: Headers; body: Uint8Array }, now = Date.now()) =>
  readNotification(message, { config, keys, now })

describe('TRANSACTION.SUCCESS', () => {
  it('reads vector B5 (signed over the raw bytes, sealed under the APIv3 key) as the v2 Payment', async () => {
    const headers = new Headers({
      'wechatpay-timestamp': V.N_TS,
      'wechatpay-nonce': V.N_NONCE,
      'wechatpay-serial': V.PUB_KEY_ID,
      'wechatpay-signature': V.B5_SIG,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    })
    const result = await read({ headers, body: new TextEncoder().encode(V.B5_BODY) }, Number(V.N_TS) * 1000)
    expect(result).toEqual({
      ok: true,
      notification: {
        kind: 'payment',
        id: 'EV-2018022511223320873',
        appid: V.APPID,
        payment: {
          out_trade_no: 'ORD20260101000001',
          transaction_id: '4200000000202601010000000001',
          trade_state: 'SUCCESS',
          total_fee: 1,
          cash_fee: 1,
          fee_type: 'CNY',
          time_end: '20260101080005',
          openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
          trade_type: 'JSAPI',
          bank_type: 'OTHERS',
          attach: 'cart=42',
        },
      },
    })
    expect(isV3Notification(headers)).toBe(true)
  })

  it('refuses B5 six minutes after it was signed (stale)', async () => {
    const headers = new Headers({
      'wechatpay-timestamp': V.N_TS,
      'wechatpay-nonce': V.N_NONCE,
      'wechatpay-serial': V.PUB_KEY_ID,
      'wechatpay-signature': V.B5_SIG,
    })
    const result = await read({ headers, body: new TextEncoder().encode(V.B5_BODY) }, (Number(V.N_TS) + 360) * 1000)
    expect(result).toMatchObject({ ok: false, reason: 'stale' })
  })

  it.each<[Signing, string]>([
    ['none', 'unsigned'],
    ['wrong_key', 'bad_signature'],
    ['unknown_serial', 'unknown_serial'],
    ['stale', 'stale'],
    ['probe', 'probe'],
    ['tampered', 'bad_signature'],
  ])('refuses a notification signed %s (%s)', async (signing, reason) => {
    expect(await read(await notification(TRANSACTION, { signing }))).toMatchObject({ ok: false, reason })
  })

  it('refuses a flipped ciphertext bit (the GCM tag fails) and another APIv3 key, though the signature holds', async () => {
    expect(await read(await notification(TRANSACTION, { spoil: flipBit }))).toMatchObject({
      ok: false,
      reason: 'undecryptable',
    })
    const other = await notification(TRANSACTION, { apiV3Key: 'TestAPIv3Key0123456789abcdefABCE' })
    expect(await read(other)).toMatchObject({ ok: false, reason: 'undecryptable' })
  })

  it.each([
    ['another appid', { appid: 'wx0000000000000000' }, 'wrong_merchant'],
    ['another mchid', { mchid: '1230000110' }, 'wrong_merchant'],
    [
      'a currency other than CNY',
      { amount: { total: 1, payer_total: 1, currency: 'USD', payer_currency: 'USD' } },
      'malformed',
    ],
    [
      'payer_total above total',
      { amount: { total: 1, payer_total: 2, currency: 'CNY', payer_currency: 'CNY' } },
      'malformed',
    ],
    ['no transaction_id', { transaction_id: undefined }, 'malformed'],
  ])('refuses %s', async (_, change, reason) => {
    expect(await read(await notification({ ...TRANSACTION, ...change }))).toMatchObject({ ok: false, reason })
  })

  it('reads a verified transaction whose trade_state is not SUCCESS as news, not a payment (acknowledged, moves nothing)', async () => {
    const result = await read(await notification({ ...TRANSACTION, trade_state: 'NOTPAY' }))
    expect(result).toMatchObject({
      ok: true,
      notification: { kind: 'unpaid', out_trade_no: TRANSACTION.out_trade_no, trade_state: 'NOTPAY' },
    })
  })

  it('keeps total_fee as WeChat states it: the ledger compares it with the order (amount mismatch)', async () => {
    const result = await read(
      await notification({ ...TRANSACTION, amount: { total: 2, payer_total: 2, currency: 'CNY' } }),
    )
    expect(result.ok && result.notification.kind === 'payment' && result.notification.payment.total_fee).toBe(2)
  })

  it('refuses an unknown event_type, and a REFUND event carrying a transaction', async () => {
    expect(await read(await notification(TRANSACTION, { event_type: 'TRANSACTION.FAIL' }))).toMatchObject({
      ok: false,
      reason: 'event_type',
    })
    expect(
      await read(await notification(TRANSACTION, { event_type: 'REFUND.SUCCESS', associated_data: 'transaction' })),
    ).toMatchObject({
      ok: false,
      reason: 'malformed',
    })
  })
})

describe('REFUND.*', () => {
  it('reads B6 (REFUND.SUCCESS) as the v2 RefundNotice, success_time in Beijing text', async () => {
    const result = await read(await notification(REFUND, { event_type: 'REFUND.SUCCESS' }))
    expect(result).toMatchObject({
      ok: true,
      notification: {
        kind: 'refund',
        event_type: 'REFUND.SUCCESS',
        notice: {
          out_trade_no: 'ORD20260101000001',
          out_refund_no: 'RF20260102000001',
          refund_id: '50000000002026010200000000001',
          total_fee: 1,
          refund_fee: 1,
          refund_status: 'SUCCESS',
          success_time: '2026-01-02 10:00:00',
          refund_recv_accout: '支付用户零钱',
        },
      },
    })
  })

  it.each([
    ['REFUND.CLOSED', 'CLOSED', 'REFUNDCLOSE'],
    ['REFUND.ABNORMAL', 'ABNORMAL', 'CHANGE'],
  ])('reads %s as refund_status %s → %s', async (event, status, expected) => {
    const result = await read(
      await notification({ ...REFUND, refund_status: status, success_time: undefined }, { event_type: event }),
    )
    expect(result.ok && result.notification.kind === 'refund' && result.notification.notice.refund_status).toBe(
      expected,
    )
  })

  it('refuses a refund for another mchid and one whose refund exceeds the total', async () => {
    expect(await read(await notification({ ...REFUND, mchid: '1' }, { event_type: 'REFUND.SUCCESS' }))).toMatchObject({
      ok: false,
      reason: 'wrong_merchant',
    })
    const over = { ...REFUND, amount: { total: 1, refund: 2, payer_total: 1, payer_refund: 2 } }
    expect(await read(await notification(over, { event_type: 'REFUND.SUCCESS' }))).toMatchObject({
      ok: false,
      reason: 'malformed',
    })
  })
})

it('acknowledges with 204 and refuses with {"code":"FAIL","message"}', async () => {
  expect(acknowledged().status).toBe(204)
  const answer = refused('ledger unavailable', 503)
  expect(answer.status).toBe(503)
  expect(await answer.json()).toEqual({ code: 'FAIL', message: 'ledger unavailable' })
})
