/**
 * out_refund_no is unique per merchant at WeChat, so it is here: the first order to use a number
 * holds it, and the same number on another order is refused before WeChat is asked.
 */
import { describe, expect, it } from 'vitest'
import { orderNo, post, sandboxPay } from '../support/api'
import { type Handler, PRIMARY, passThrough, route } from '../support/net'
import { placeOrder, shop } from '../support/payments'
import { readRequest } from '../support/wechat'

/** Paid orders of 100 fen each, whose payments the shop has received. */
async function paidOrders(count: number): Promise<string[]> {
  shop()
  const orders = await Promise.all(Array.from({ length: count }, () => placeOrder({ total_fee: 100 })))
  await Promise.all(orders.map((order) => sandboxPay(order.out_trade_no)))
  return orders.map((order) => order.out_trade_no)
}

/** Counts the refund requests that reach WeChat (the sandbox), passing them through. */
function countRefundCalls(): Record<string, string>[] {
  const calls: Record<string, string>[] = []
  const counting: Handler = async (request) => {
    if (new URL(request.url).pathname.endsWith('/secapi/pay/refund')) calls.push(await readRequest(request.clone()))
    return passThrough(request)
  }
  route(PRIMARY, counting)
  return calls
}

describe('out_refund_no is unique per merchant', () => {
  it('20 concurrent refunds with one out_refund_no on 20 paid orders → one WeChat refund, 19 × 409', async () => {
    const orders = await paidOrders(20)
    const calls = countRefundCalls()
    const out_refund_no = orderNo('R')
    const replies = await Promise.all(
      orders.map((out_trade_no) => post('/v1/pay/refund', { out_trade_no, out_refund_no, refund_fee: 10 })),
    )
    const accepted = replies.filter((reply) => reply.status === 200)
    const refused = replies.filter((reply) => reply.status === 409)
    expect(accepted).toHaveLength(1)
    expect(refused).toHaveLength(19)
    expect(calls).toHaveLength(1)
    const holder = accepted[0]?.body.data.out_trade_no
    expect(calls[0]).toMatchObject({ out_trade_no: holder, out_refund_no })
    for (const reply of refused) {
      expect(reply.body.error.code).toBe('OUT_REFUND_NO_USED')
      expect(reply.body.error.message).toContain(`order ${holder}`)
    }
    // 20 placements, payments and refunds through the sandbox: room for a busy machine, no timing asserted.
  }, 30_000)

  it('the holding order may send the same refund again; another order later is refused, nothing sent', async () => {
    const [first, second] = (await paidOrders(2)) as [string, string]
    const calls = countRefundCalls()
    const out_refund_no = orderNo('R')
    const asked = await post('/v1/pay/refund', { out_trade_no: first, out_refund_no, refund_fee: 30 })
    expect(asked.status).toBe(200)
    const again = await post('/v1/pay/refund', { out_trade_no: first, out_refund_no, refund_fee: 30 })
    expect(again.status).toBe(200)
    expect(again.body.data).toEqual(asked.body.data)
    const elsewhere = await post('/v1/pay/refund', { out_trade_no: second, out_refund_no, refund_fee: 30 })
    expect(elsewhere.status).toBe(409)
    expect(elsewhere.body.error).toEqual({
      code: 'OUT_REFUND_NO_USED',
      message: `out_refund_no ${out_refund_no} is already used by order ${first}: out_refund_no is unique per merchant`,
    })
    expect(calls).toHaveLength(1)
  })

  it('a number claimed by a refund that was refused stays with its order', async () => {
    const unpaid = await placeOrder({ total_fee: 100 })
    const [paid] = (await paidOrders(1)) as [string]
    const calls = countRefundCalls()
    const out_refund_no = orderNo('R')
    const refused = await post('/v1/pay/refund', { out_trade_no: unpaid.out_trade_no, out_refund_no, refund_fee: 10 })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('wxPayError.notPaid')
    const elsewhere = await post('/v1/pay/refund', { out_trade_no: paid, out_refund_no, refund_fee: 10 })
    expect(elsewhere.status).toBe(409)
    expect(elsewhere.body.error.message).toContain(`order ${unpaid.out_trade_no}`)
    expect(calls).toHaveLength(0)
  })
})
