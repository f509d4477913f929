/**
 * @module
 * /v1/pay/refund and /v1/pay/refundQuery: validate → claim the out_refund_no merchant-wide → the
 * order's ledger (which holds the money of every refund not closed, so refunds never add up past what
 * was paid) or WeChat → respond.
 */
import { Hono } from 'hono'
import { loadConfig } from '../config'
import { appidOf } from '../ledger/record'
import { claimRefundNumber, refundHolder } from '../ledger/refund-number'
import { ledgerOf, unwrap } from '../ledger/stub'
import { createClient } from '../wechat/client'
import { refundQueryOf } from '../wechat/refund'
import { input } from './input'
import { refuseOwnOrigin } from './place'
import { RefundInput, RefundQueryInput } from './schemas'

export const refunds = new Hono<{ Bindings: Env }>()
  .post('/refund', input(RefundInput), async (c) => {
    const config = loadConfig(c.env)
    const origin = new URL(c.req.url).origin
    const { notify_url, ...refund } = c.var.input
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
    // refundquery takes one id; out_refund_no names a single refund, out_trade_no all of the order's.
    const ids: Record<string, string> = out_refund_no ? { out_refund_no } : { out_trade_no: out_trade_no as string }
    const config = loadConfig(c.env)
    // Asked under the order's appid: the order named, or the one that claimed the refund number here.
    const orderNo = out_trade_no ?? (await refundHolder(c.env, out_refund_no as string))
    const record = orderNo ? unwrap(await ledgerOf(c.env, orderNo).get(orderNo)) : null
    const appid = appidOf(record ?? {}, config.appid)
    const reply = await createClient({ config }).call('/pay/refundquery', { ...ids, appid })
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
