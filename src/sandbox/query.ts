/**
 * @module
 * 查询订单 and 关闭订单 (reference §4, §5). orderquery prefers transaction_id when both ids are
 * given (§4.1); closeorder takes out_trade_no only. The 5-minute closeorder minimum is not
 * enforced: current docs disagree on it (§5, §12).
 */
import type { Fields } from '../wechat/xml'
import { loadByTransaction, loadOrder, type Order, saveOrder } from './orders'
import { type Result, refuse } from './protocol'
import { checkRequired } from './rules'
import { now } from './time'

const STATE_DESC = { NOTPAY: '订单未支付', SUCCESS: '支付成功', CLOSED: '订单已关闭', REFUND: '转入退款' } as const

/** Handles a verified, merchant-checked orderquery request. */
export async function orderQuery(kv: KVNamespace, fields: Fields): Promise<Result> {
  const problem = checkRequired(fields, ['nonce_str'])
  if (problem) return problem
  if (!fields.transaction_id && !fields.out_trade_no)
    return refuse('LACK_PARAMS', '缺少参数transaction_id或out_trade_no')
  const order = fields.transaction_id
    ? await loadByTransaction(kv, fields.transaction_id)
    : await loadOrder(kv, fields.out_trade_no as string)
  if (!order) return refuse('ORDERNOTEXIST', '此交易订单号不存在')
  return { ok: true, fields: queryFields(order) }
}

/** Handles a verified, merchant-checked closeorder request. */
export async function closeOrder(kv: KVNamespace, fields: Fields): Promise<Result> {
  const problem = checkRequired(fields, ['nonce_str', 'out_trade_no'])
  if (problem) return problem
  const order = await loadOrder(kv, fields.out_trade_no as string)
  if (!order) return refuse('ORDERNOTEXIST', '订单不存在')
  if (order.trade_state === 'SUCCESS') return refuse('ORDERPAID', '订单已支付')
  if (order.trade_state === 'CLOSED') return refuse('ORDERCLOSED', '订单已关闭')
  order.trade_state = 'CLOSED'
  order.closed_at = now()
  await saveOrder(kv, order)
  return { ok: true, fields: { result_msg: 'OK' } }
}

/** The §4.2 order fields, all strings; payment fields only once paid. */
export function queryFields(order: Order): Record<string, string> {
  const { request, payment } = order
  const out: Record<string, string> = {}
  if (request.device_info) out.device_info = request.device_info
  const openid = payment?.openid ?? request.openid
  if (openid) out.openid = openid
  if (payment) out.is_subscribe = payment.is_subscribe
  out.trade_type = request.trade_type ?? ''
  // A paid order with a refund accepted reads REFUND (转入退款), as WeChat's orderquery reports it.
  const state = order.trade_state === 'SUCCESS' && order.refunds?.length ? 'REFUND' : order.trade_state
  out.trade_state = state
  if (payment) out.bank_type = payment.bank_type
  out.total_fee = request.total_fee ?? ''
  out.fee_type = 'CNY'
  if (payment) Object.assign(out, paidFields(order))
  out.out_trade_no = order.out_trade_no
  if (request.attach) out.attach = request.attach
  out.trade_state_desc = STATE_DESC[state]
  return out
}

/** Fields WeChat adds once an order is paid: amounts, coupon (flat, indexed), ids and time. */
export function paidFields(order: Order): Record<string, string> {
  const { payment } = order
  if (!payment) return {}
  const out: Record<string, string> = { cash_fee: payment.cash_fee }
  if (payment.coupon_fee && payment.coupon_id) {
    Object.assign(out, {
      coupon_fee: payment.coupon_fee,
      coupon_count: '1',
      coupon_type_0: 'CASH',
      coupon_id_0: payment.coupon_id,
      coupon_fee_0: payment.coupon_fee,
    })
  }
  out.transaction_id = payment.transaction_id
  out.time_end = payment.time_end
  return out
}
