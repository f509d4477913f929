/**
 * The refund hold: a refund is stored as REQUESTING (its money held) before WeChat is asked. A
 * final state learned while WeChat is asked always wins over that call's answer, and a refund
 * WeChat confirms it never got is released by the refund checks (REFUND_CHECK_SCHEDULE, two steps
 * in tests), so the shop can refund again. The alarm is run by the test (runAlarm).
 */
import { describe, expect, it } from 'vitest'
import { orderNo, post } from '../support/api'
import { ledgerRecord, runAlarm } from '../support/ledger'
import { BACKUP, PRIMARY, passThrough, route } from '../support/net'
import { SUCCESS_XML } from '../support/payments'
import { countRefundCalls, deliverRefundNotice, noticeFields, paidOrder, refundNotice } from '../support/refunds'
import { captureLogs } from '../support/secrets'
import { businessError, successReply } from '../support/wechat'

type Line = Record<string, unknown>
const refundNo = () => orderNo('R')
const isRefund = (request: Request) => new URL(request.url).pathname.endsWith('/secapi/pay/refund')

/** WeChat unreachable for refunds (both hosts answer 503): the refund is held as REQUESTING. */
async function heldRefund(order: { out_trade_no: string }, out_refund_no: string, refund_fee: number) {
  const busy = (request: Request) => (isRefund(request) ? new Response('busy', { status: 503 }) : passThrough(request))
  route(PRIMARY, busy)
  route(BACKUP, busy)
  const held = await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee })
  expect(held.status).toBe(502)
  route(PRIMARY, passThrough)
  route(BACKUP, passThrough)
  expect((await ledgerRecord(order.out_trade_no))?.refunds).toEqual([
    expect.objectContaining({ out_refund_no, refund_status: 'REQUESTING' }),
  ])
}

/** Runs the ledger's alarm until nothing is scheduled (at most `limit` runs). */
async function runAlarms(outTradeNo: string, limit = 12): Promise<number> {
  let runs = 0
  while (runs < limit && (await runAlarm(outTradeNo))) runs += 1
  return runs
}

describe('a final refund state learned while WeChat is asked wins', () => {
  it('a retried refund answered late with a final no keeps the SUCCESS learned meanwhile', async () => {
    const logs = captureLogs()
    const order = await paidOrder(100)
    const out_refund_no = refundNo()
    await heldRefund(order, out_refund_no, 100)
    const refund_id = '50300000000000000000000000077'
    let asked!: () => void
    const askedNow = new Promise<void>((resolve) => {
      asked = resolve
    })
    let answer!: () => void
    const answerNow = new Promise<void>((resolve) => {
      answer = resolve
    })
    // A stand-in WeChat that holds the retried refund call until the refund is known SUCCESS.
    route(PRIMARY, async (request) => {
      if (isRefund(request)) {
        asked()
        await answerNow
        return businessError('NOTENOUGH', '基本账户余额不足')
      }
      if (!new URL(request.url).pathname.endsWith('/pay/refundquery')) return passThrough(request)
      return successReply({
        out_trade_no: order.out_trade_no,
        transaction_id: order.transaction_id,
        total_fee: '100',
        refund_count: '1',
        out_refund_no_0: out_refund_no,
        refund_id_0: refund_id,
        refund_fee_0: '100',
        refund_status_0: 'SUCCESS',
        refund_success_time_0: '2026-11-29 12:00:00',
        refund_recv_accout_0: '支付用户零钱',
      })
    })
    const retried = post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 100 })
    await askedNow
    const fields = { ...noticeFields(order, out_refund_no, refund_id), refund_fee: '100', settlement_refund_fee: '100' }
    expect(await deliverRefundNotice(await refundNotice(fields))).toBe(SUCCESS_XML)
    expect(order.relays).toHaveLength(1)
    answer()
    const late = await retried
    expect(late.status).toBe(200)
    expect(late.body.data).toMatchObject({ out_refund_no, refund_id, refund_status: 'SUCCESS' })

    const record = await ledgerRecord(order.out_trade_no)
    expect(record?.trade_state).toBe('REFUND')
    expect(record?.refunds).toEqual([
      expect.objectContaining({ out_refund_no, refund_status: 'SUCCESS', relayed_at: expect.any(String) }),
    ])
    // The money is refunded: one fen more is refused before WeChat.
    const calls = countRefundCalls()
    const more = await post('/v1/pay/refund', {
      out_trade_no: order.out_trade_no,
      out_refund_no: refundNo(),
      refund_fee: 1,
    })
    expect(more.body.error.code).toBe('wxPayError.refundTooLarge')
    expect(calls).toHaveLength(0)
    const again = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no, out_refund_no })
    expect(again.body.data).toEqual({ delivered: true, status: 200 })
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'refund_not_accepted', out_refund_no, kind: 'wechat', held: false }),
    )
  })
})

describe('a refund held as REQUESTING resolves on its own', () => {
  it('WeChat never got it: REFUNDNOTEXIST on every check releases the hold, logged, and the shop can refund again', async () => {
    const logs = captureLogs()
    const order = await paidOrder(100)
    const out_refund_no = refundNo()
    await heldRefund(order, out_refund_no, 100)
    const held = await post('/v1/pay/refund', {
      out_trade_no: order.out_trade_no,
      out_refund_no: refundNo(),
      refund_fee: 1,
    })
    expect(held.body.error.code).toBe('wxPayError.refundTooLarge')

    let queries = 0
    route(PRIMARY, (request) => {
      if (new URL(request.url).pathname.endsWith('/pay/refundquery')) queries += 1
      return passThrough(request)
    })
    expect(await runAlarms(order.out_trade_no)).toBeLessThanOrEqual(4)
    expect(queries).toBe(2)
    expect((await ledgerRecord(order.out_trade_no))?.refunds).toEqual([])
    const lines = logs() as Line[]
    expect(lines.filter((line) => line.event === 'refund_check').map((line) => line.found)).toEqual([
      'REFUNDNOTEXIST',
      'REFUNDNOTEXIST',
    ])
    expect(lines).toContainEqual({
      event: 'refund_released',
      out_trade_no: order.out_trade_no,
      out_refund_no,
      refund_fee: 100,
      checks: 2,
    })

    // Recorded as never made: the same out_refund_no now refunds, once.
    const calls = countRefundCalls()
    const again = await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 100 })
    expect(again.status).toBe(200)
    expect(again.body.data.refund_status).toBe('PROCESSING')
    expect(calls).toHaveLength(1)
  })

  it('WeChat got it and only its answer was lost: the checks learn PROCESSING and the money stays held', async () => {
    const logs = captureLogs()
    const order = await paidOrder(100)
    const out_refund_no = refundNo()
    // The refund reaches WeChat (the sandbox takes it); its answer does not reach the service.
    const lost = async (request: Request) => {
      if (!isRefund(request)) return passThrough(request)
      await passThrough(request)
      return new Response('gateway timeout', { status: 504 })
    }
    route(PRIMARY, lost)
    route(BACKUP, lost)
    expect(
      (await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 100 })).status,
    ).toBe(502)
    route(PRIMARY, passThrough)
    route(BACKUP, passThrough)
    await runAlarms(order.out_trade_no)
    expect((await ledgerRecord(order.out_trade_no))?.refunds).toEqual([
      expect.objectContaining({ out_refund_no, refund_status: 'PROCESSING' }),
    ])
    const more = await post('/v1/pay/refund', {
      out_trade_no: order.out_trade_no,
      out_refund_no: refundNo(),
      refund_fee: 1,
    })
    expect(more.body.error.code).toBe('wxPayError.refundTooLarge')
    expect((logs() as Line[]).filter((line) => line.event === 'refund_released')).toEqual([])
  })
})
