/**
 * POST /sandbox/refund completes a refund and sends the refund notification the way WeChat does
 * (refunds reference §3): unsigned outer XML, req_info encrypted with AES-256-ECB under the MD5 of
 * the key, retried on SANDBOX_NOTIFY_SCHEDULE. The encryption is checked against Node's.
 */
import { describe, expect, it } from 'vitest'
import { encryptRefundNotice } from '../../src/sandbox/refund-notify'
import { refundNoticeOf } from '../../src/wechat/refund'
import { decryptRefundNotice } from '../../src/wechat/refund-notify'
import { decode } from '../../src/wechat/xml'
import { route } from '../support/net'
import { SUCCESS_FIELDS, VECTORS } from '../wechat/refund-vectors'
import { APPID, call, dev, KEY, lookup, MCH_ID, order, orderNo } from './client'

const OK_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'
const FAIL_XML = '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>'

type RefundView = {
  out_refund_no: string
  status: string
  success_time?: string
  notification: { delivered: boolean; attempts: { n: number; ok: boolean; return_code?: string }[] }
}

/** Routes the refund notify host to `answer` (by attempt number) and records the bodies. */
function service(answer: (n: number) => string = () => OK_XML): string[] {
  const received: string[] = []
  route('refunds.test', async (request) => {
    received.push(await request.text())
    return new Response(answer(received.length))
  })
  return received
}

/** A paid order of 101 fen with one PROCESSING refund of 30 whose notify_url is refunds.test. */
async function processing(notify = true) {
  route('shop.test', () => new Response(OK_XML))
  const fields = order({ total_fee: '101', notify_url: 'https://shop.test/paid' })
  await call('/pay/unifiedorder', fields)
  const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
  const out_refund_no = orderNo('RF')
  const reply = await call(
    '/secapi/pay/refund',
    lookup({
      out_trade_no: fields.out_trade_no,
      out_refund_no,
      total_fee: '101',
      refund_fee: '30',
      ...(notify ? { notify_url: 'https://refunds.test/v1/pay/notify/refund' } : {}),
    }),
  )
  expect(reply.result_code).toBe('SUCCESS')
  return {
    out_trade_no: fields.out_trade_no,
    transaction_id: paid.body.data.transaction_id as string,
    out_refund_no,
    refund_id: reply.refund_id as string,
  }
}

const refundsOf = async (outTradeNo: string) => (await dev(`/orders/${outTradeNo}`)).body.data.refunds as RefundView[]

async function waitForRefund(outTradeNo: string, done: (refund: RefundView) => boolean): Promise<RefundView> {
  let last = (await refundsOf(outTradeNo))[0] as RefundView
  for (let i = 0; i < 40 && !done(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    last = (await refundsOf(outTradeNo))[0] as RefundView
  }
  return last
}

describe('encryptRefundNotice', () => {
  it('produces exactly the req_info Node’s aes-256-ecb makes from the same fields and key', async () => {
    expect(await encryptRefundNotice(SUCCESS_FIELDS, VECTORS.success.key)).toBe(VECTORS.success.reqInfo)
  })
})

describe('POST /sandbox/refund', () => {
  it('completes a refund as SUCCESS and notifies: unsigned outer XML, req_info that decrypts to the refund', async () => {
    const received = service()
    const refund = await processing()
    const completed = await dev('/refund', { out_refund_no: refund.out_refund_no })
    expect(completed.status).toBe(200)
    expect(completed.body.data).toMatchObject({
      out_refund_no: refund.out_refund_no,
      status: 'SUCCESS',
      notification: { delivered: true, attempts: [{ n: 1, ok: true, return_code: 'SUCCESS' }] },
    })
    expect(received).toHaveLength(1)
    const outer = decode(received[0] as string)
    expect(Object.keys(outer).sort()).toEqual(['appid', 'mch_id', 'nonce_str', 'req_info', 'return_code'])
    expect(outer).toMatchObject({ return_code: 'SUCCESS', appid: APPID, mch_id: MCH_ID })
    const notice = refundNoticeOf(await decryptRefundNotice(outer.req_info as string, KEY))
    expect(notice).toEqual({
      out_trade_no: refund.out_trade_no,
      transaction_id: refund.transaction_id,
      out_refund_no: refund.out_refund_no,
      refund_id: refund.refund_id,
      total_fee: 101,
      refund_fee: 30,
      settlement_refund_fee: 30,
      settlement_total_fee: 101,
      refund_status: 'SUCCESS',
      success_time: (completed.body.data as unknown as RefundView).success_time,
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_request_source: 'API',
    })
    expect(notice.success_time).toMatch(/^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d$/)
    // Under another key the same req_info does not decrypt.
    await expect(decryptRefundNotice(outer.req_info as string, 'another0key0another0key0another0')).rejects.toThrow()
  })

  it.each(['REFUNDCLOSE', 'CHANGE'] as const)('completes a refund as %s, without success_time', async (status) => {
    const received = service()
    const refund = await processing()
    expect((await dev('/refund', { out_refund_no: refund.out_refund_no, status })).status).toBe(200)
    const notice = refundNoticeOf(await decryptRefundNotice(decode(received[0] as string).req_info as string, KEY))
    expect(notice.refund_status).toBe(status)
    expect(notice).not.toHaveProperty('success_time')
    const query = await call('/pay/refundquery', lookup({ out_refund_no: refund.out_refund_no }))
    expect(query.refund_status_0).toBe(status)
  })

  it('retries a service that answers FAIL, recording every attempt on the refund', async () => {
    const received = service((n) => (n <= 2 ? FAIL_XML : OK_XML))
    const refund = await processing()
    const first = await dev('/refund', { out_refund_no: refund.out_refund_no })
    expect(first.body.data).toMatchObject({ notification: { delivered: false, attempts: [{ n: 1, ok: false }] } })
    const final = await waitForRefund(refund.out_trade_no, (r) => r.notification.delivered)
    expect(final.notification.attempts).toMatchObject([
      { n: 1, ok: false, return_code: 'FAIL' },
      { n: 2, ok: false, return_code: 'FAIL' },
      { n: 3, ok: true, return_code: 'SUCCESS' },
    ])
    expect(received).toHaveLength(3)
    // Every retry carries the same notification.
    expect(new Set(received).size).toBe(1)
  })

  it('completes a refund without notify_url and sends nothing', async () => {
    const received = service()
    const refund = await processing(false)
    const completed = await dev('/refund', { out_refund_no: refund.out_refund_no })
    expect(completed.body.data).toMatchObject({ status: 'SUCCESS', notification: { delivered: false, attempts: [] } })
    expect(received).toHaveLength(0)
  })

  it('refuses to complete a refund twice (409), an unknown one (404) and an unknown status (400)', async () => {
    service()
    const refund = await processing()
    await dev('/refund', { out_refund_no: refund.out_refund_no })
    const again = await dev('/refund', { out_refund_no: refund.out_refund_no, status: 'REFUNDCLOSE' })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('REFUND_NOT_PROCESSING')
    expect((await dev('/refund', { out_refund_no: orderNo('NONE') })).body.error.code).toBe('REFUNDNOTEXIST')
    const bad = await dev('/refund', { out_refund_no: refund.out_refund_no, status: 'DONE' })
    expect(bad.status).toBe(400)
    expect((await dev('/refund', {})).status).toBe(400)
  })
})
