/**
 * Every WeChat reply is matched to what was asked before the ledger learns from it — on every
 * path: the queryOrder route, the self-check, the reconciliation, the refund reply. A strict
 * stand-in answers with signed replies about something else.
 */
import { describe, expect, it } from 'vitest'
import { orderNo, post, sandboxPay } from '../support/api'
import { ledgerRecord, runAlarm } from '../support/ledger'
import { BACKUP, PRIMARY, passThrough, route } from '../support/net'
import { type PlacedOrder, placeOrder, shop, transactionId } from '../support/payments'
import { paidOrder } from '../support/refunds'
import { captureLogs } from '../support/secrets'
import { readRequest, successReply } from '../support/wechat'

type Line = Record<string, unknown>
const beijingToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')

/** orderquery answered SUCCESS, signed, with `change` applied to the reply; the rest goes to the sandbox. */
function orderqueryAnswers(order: PlacedOrder, change: Record<string, string>): { queries: number } {
  const seen = { queries: 0 }
  route(PRIMARY, async (request) => {
    if (!new URL(request.url).pathname.endsWith('/pay/orderquery')) return passThrough(request)
    seen.queries += 1
    const asked = await readRequest(request)
    return successReply({
      out_trade_no: asked.out_trade_no as string,
      trade_state: 'SUCCESS',
      trade_type: 'JSAPI',
      total_fee: String(order.total_fee),
      cash_fee: String(order.total_fee),
      fee_type: 'CNY',
      bank_type: 'CFT',
      openid: order.openid,
      transaction_id: transactionId(),
      time_end: '20261129120000',
      ...change,
    })
  })
  return seen
}

describe('orderquery replies about another order are refused', () => {
  it('by the self-check: nothing recorded, nothing relayed, logged', async () => {
    const logs = captureLogs()
    const received = shop()
    const order = await placeOrder()
    const wechat = orderqueryAnswers(order, { out_trade_no: orderNo('OTHER') })
    expect(await runAlarm(order.out_trade_no)).toBe(true)
    expect(wechat.queries).toBe(1)
    const record = await ledgerRecord(order.out_trade_no)
    expect(record?.trade_state).toBe('NOTPAY')
    expect(record).not.toHaveProperty('payment')
    expect(received).toHaveLength(0)
    expect(logs()).toContainEqual(
      expect.objectContaining({
        event: 'order_reply_mismatch',
        source: 'self_check',
        out_trade_no: order.out_trade_no,
      }),
    )
  })

  it('by the reconciliation: the bill’s payment stays a discrepancy until WeChat confirms it for this order', async () => {
    captureLogs()
    const received = shop()
    const order = await placeOrder()
    // Paid at WeChat (the sandbox, so it is in the day's bill) while the service does not hear it: the
    // sandbox's notification retries stay unheard for the whole test, so only the reconciliation acts.
    route('service.test', () => new Response('down', { status: 503 }))
    await sandboxPay(order.out_trade_no)
    orderqueryAnswers(order, { out_trade_no: orderNo('OTHER') })
    const { body } = await post('/v1/pay/reconciliation', { bill_date: beijingToday(), refresh: '1' })
    expect(body.data.fixed).not.toContainEqual(expect.objectContaining({ out_trade_no: order.out_trade_no }))
    expect(body.data.discrepancies).toContainEqual(
      expect.objectContaining({ kind: 'payment_not_recorded', out_trade_no: order.out_trade_no }),
    )
    expect((await ledgerRecord(order.out_trade_no))?.payment).toBeUndefined()
    expect(received).toHaveLength(0)
  }, 15_000)

  it('by queryOrder: a reply about another transaction_id than was asked → 502, record unchanged', async () => {
    const order = await placeOrder()
    const before = await ledgerRecord(order.out_trade_no)
    orderqueryAnswers(order, { transaction_id: transactionId() })
    const reply = await post('/v1/pay/queryOrder', {
      out_trade_no: order.out_trade_no,
      transaction_id: '4200000000000000000000000001',
    })
    expect(reply.status).toBe(502)
    expect(reply.body.error.message).toContain('another transaction_id')
    expect(await ledgerRecord(order.out_trade_no)).toEqual(before)
  })
})

describe('a refund reply about another refund is not taken as accepted', () => {
  it.each([
    ['another order', { out_trade_no: 'OTHERORDER1' }],
    ['another total_fee', { total_fee: '1000' }],
    ['another refund_fee', { refund_fee: '31' }],
  ])('%s: the refund stays held (REQUESTING), the shop is told to retry', async (_case, change) => {
    const logs = captureLogs()
    const order = await paidOrder(100)
    const out_refund_no = orderNo('R')
    const answer = async (request: Request) => {
      if (!new URL(request.url).pathname.endsWith('/secapi/pay/refund')) return passThrough(request)
      return successReply({
        transaction_id: order.transaction_id,
        out_trade_no: order.out_trade_no,
        out_refund_no,
        refund_id: '50300000000000000000000000088',
        refund_fee: '30',
        total_fee: '100',
        cash_fee: '100',
        ...change,
      })
    }
    route(PRIMARY, answer)
    route(BACKUP, answer)
    const reply = await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 30 })
    expect(reply.status).toBe(502)
    expect(reply.body.error.message).toContain('retry with the same out_refund_no')
    expect((await ledgerRecord(order.out_trade_no))?.refunds).toEqual([
      expect.objectContaining({ out_refund_no, refund_status: 'REQUESTING' }),
    ])
    expect((logs() as Line[]).filter((line) => line.event === 'refund_not_accepted')).toEqual([
      expect.objectContaining({ out_refund_no, kind: 'upstream', held: true }),
    ])
  })
})
