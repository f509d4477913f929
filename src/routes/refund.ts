/**
 * @module
 * /v1/pay/refund and /v1/pay/refundQuery: validate → claim the out_refund_no merchant-wide → the
 * order's ledger (which holds the money of every refund not closed, so refunds never add up past what
 * was paid) or WeChat → respond.
 */
import { Hono } from 'hono'
import { type Config, loadConfig } from '../config'
import { fail, wechatError } from '../errors'
import { appidOf, type OrderRecord } from '../ledger/record'
import { claimRefundNumber, refundHolder } from '../ledger/refund-number'
import { ledgerOf, unwrap } from '../ledger/stub'
import { createWechat, type Wechat } from '../wechat'
import { refundQueryOf } from '../wechat/refund'
import type { Fields } from '../wechat/xml'
import { checkTradeNo } from './fields'
import { input } from './input'
import { refuseOwnOrigin } from './place'
import { RefundInput, RefundQueryInput } from './schemas'

export const refunds = new Hono<{ Bindings: Env }>()
  .post('/refund', input(RefundInput), async (c) => {
    const config = loadConfig(c.env)
    const origin = new URL(c.req.url).origin
    const { notify_url, ...refund } = c.var.input
    checkTradeNo(config, refund.out_trade_no)
    if (notify_url) refuseOwnOrigin(notify_url, [origin, config.publicUrl], config.sandbox)
    // WeChat keeps out_refund_no unique per merchant; the order's ledger sees only its own refunds.
    await claimRefundNumber(c.env, refund.out_refund_no, refund.out_trade_no)
    const answer = await ledgerOf(c.env, refund.out_trade_no).requestRefund({
      ...refund,
      ...(notify_url !== undefined && { notify_url }),
      wechat_notify_url: `${config.publicUrl ?? origin}/v1/pay/notify/refund`,
    })
    return c.json({ data: unwrap(answer) })
  })
  .post('/refundQuery', input(RefundQueryInput), async (c) => {
    const { out_trade_no, out_refund_no } = c.var.input
    const config = loadConfig(c.env)
    checkTradeNo(config, out_trade_no)
    // Asked under the order's appid: the order named, or the one that claimed the refund number here.
    const orderNo = out_trade_no ?? (await refundHolder(c.env, out_refund_no as string))
    const record = orderNo ? unwrap(await ledgerOf(c.env, orderNo).get(orderNo)) : null
    const appid = appidOf(record ?? {}, config.appid)
    const wechat = createWechat({ config, kv: c.env.ORDERS })
    // refundquery takes one id; out_refund_no names a single refund, out_trade_no all of the order's.
    const reply = out_refund_no
      ? await wechat.call('/pay/refundquery', { out_refund_no, appid })
      : await orderRefunds(config, wechat, out_trade_no as string, { record, appid })
    const query = refundQueryOf(reply, {
      ...(out_trade_no !== undefined && { out_trade_no }),
      ...(out_refund_no !== undefined && { out_refund_no }),
    })
    unwrap(await ledgerOf(c.env, query.out_trade_no).learnRefunds(query.out_trade_no, { ...reply }))
    return c.json({
      data: {
        out_trade_no: query.out_trade_no,
        transaction_id: query.transaction_id,
        total_fee: query.total_fee,
        refunds: query.refunds.map((refund) => ({
          out_refund_no: refund.out_refund_no,
          refund_id: refund.refund_id,
          refund_fee: refund.refund_fee,
          refund_status: refund.refund_status,
          ...(refund.success_time !== undefined && { success_time: refund.success_time }),
          ...(refund.refund_recv_accout !== undefined && { refund_recv_accout: refund.refund_recv_accout }),
        })),
      },
    })
  })

/**
 * All of an order's refunds as one v2 refundquery reply. v2 asks WeChat by out_trade_no; v3 looks
 * refunds up by out_refund_no only (v3 reference §6.11), so under v3 the order's ledger lists the
 * refunds WeChat accepted and each is asked for, its `_0` fields numbered into the one reply.
 */
async function orderRefunds(
  config: Config,
  wechat: Wechat,
  outTradeNo: string,
  order: { record: OrderRecord | null; appid: string },
): Promise<Fields> {
  const { record, appid } = order
  if (config.apiVersion !== 'v3') return wechat.call('/pay/refundquery', { out_trade_no: outTradeNo, appid })
  const numbers = (record?.refunds ?? []).filter((r) => r.refund_status !== 'REQUESTING').map((r) => r.out_refund_no)
  if (numbers.length === 0) throw wechatError('REFUNDNOTEXIST', `order ${outTradeNo} has no refund at WeChat`)
  const replies = await Promise.all(numbers.map((no) => wechat.call('/pay/refundquery', { out_refund_no: no, appid })))
  if (replies.some((reply) => reply.out_trade_no !== outTradeNo))
    throw fail('upstream', `a refundquery reply for order ${outTradeNo} is about another order`)
  const merged: Fields = { ...replies[0], refund_count: String(replies.length) }
  replies.forEach((reply, n) => {
    for (const [name, value] of Object.entries(reply))
      if (name.endsWith('_0')) merged[`${name.slice(0, -2)}_${n}`] = value
  })
  return merged
}
