/**
 * @module
 * 查询订单 and 关闭订单 in v3 (reference §6.5–§6.7): `GET …/out-trade-no/{no}?mchid=` or
 * `…/id/{transaction_id}?mchid=` answer the transaction object; `POST …/out-trade-no/{no}/close`
 * answers 204. Orders placed through v2 are the same orders and answer here too, as at WeChat.
 */

import { loadByTransaction, loadOrder, type Order, saveOrder } from '../orders'
import { beijingMs } from '../time'
import { CloseBody, OUT_TRADE_NO, paramError, parseBody } from './fields'
import { refuse, type WechatError } from './protocol'
import type { Settings } from './settings'
import { rfc3339 } from './time'
import type { Answer } from './transactions'

const STATE_DESC = { NOTPAY: '订单未支付', SUCCESS: '支付成功', CLOSED: '订单已关闭', REFUND: '转入退款' } as const

/** Answers a query by out_trade_no or transaction_id; `mchid` is the query's. */
export async function queryOrder(options: {
  kv: KVNamespace
  settings: Settings
  by: { out_trade_no: string } | { transaction_id: string }
  mchid: string | null
}): Promise<Answer | WechatError> {
  const { kv, settings, by, mchid } = options
  if (mchid === null) return paramError('/mchid', '缺少必填参数')
  if (mchid !== settings.mchId) return refuse(400, 'MCH_NOT_EXISTS', '商户号不存在或与签名中的商户号不一致')
  const order =
    'out_trade_no' in by
      ? OUT_TRADE_NO.test(by.out_trade_no)
        ? await loadOrder(kv, by.out_trade_no)
        : undefined
      : await loadByTransaction(kv, by.transaction_id)
  if (!order) return refuse(404, 'ORDER_NOT_EXIST', '订单不存在')
  return { status: 200, body: transaction(order) }
}

/** Closes an unpaid order: 204; a paid or closed one is refused. */
export async function closeOrder(options: {
  kv: KVNamespace
  settings: Settings
  outTradeNo: string
  json: unknown
  at: number
}): Promise<Answer | WechatError> {
  const { kv, settings, outTradeNo, json, at } = options
  const body = parseBody(CloseBody, json)
  if ('code' in body && 'status' in body) return body
  if (body.mchid !== settings.mchId) return refuse(400, 'MCH_NOT_EXISTS', '商户号不存在或与签名中的商户号不一致')
  const order = OUT_TRADE_NO.test(outTradeNo) ? await loadOrder(kv, outTradeNo) : undefined
  if (!order) return refuse(404, 'ORDER_NOT_EXIST', '订单不存在')
  if (order.trade_state === 'SUCCESS') return refuse(400, 'ORDERPAID', '该订单已支付,不能关闭')
  if (order.trade_state === 'CLOSED') return refuse(400, 'ORDER_CLOSED', '订单已关闭')
  order.trade_state = 'CLOSED'
  order.closed_at = at
  await saveOrder(kv, order)
  return { status: 204 }
}

/**
 * The §6.7 transaction object, as queries answer it and TRANSACTION.SUCCESS carries it. Payment
 * fields (transaction_id, success_time, payer, attach, amount.payer_total) appear once paid; a coupon
 * appears as one promotion_detail (its fields are the sandbox's choice).
 */
export function transaction(order: Order): Record<string, unknown> {
  const { request, payment } = order
  const total = Number(request.total_fee)
  const state = order.trade_state === 'SUCCESS' && order.refunds?.length ? 'REFUND' : order.trade_state
  const out: Record<string, unknown> = {
    appid: request.appid ?? '',
    mchid: request.mch_id ?? '',
    out_trade_no: order.out_trade_no,
  }
  if (payment) out.transaction_id = payment.transaction_id
  out.trade_type = request.trade_type ?? ''
  out.trade_state = state
  out.trade_state_desc = STATE_DESC[state]
  if (payment) {
    out.bank_type = payment.bank_type
    if (request.attach) out.attach = request.attach
    out.success_time = rfc3339(beijingMs(payment.time_end) ?? 0)
    out.payer = { openid: payment.openid }
    out.amount = { total, payer_total: Number(payment.cash_fee), currency: 'CNY', payer_currency: 'CNY' }
    if (payment.coupon_fee && payment.coupon_id) {
      const amount = Number(payment.coupon_fee)
      out.promotion_detail = [
        {
          coupon_id: payment.coupon_id,
          name: '代金券',
          scope: 'GLOBAL',
          type: 'CASH',
          amount,
          wechatpay_contribute: 0,
          merchant_contribute: amount,
          other_contribute: 0,
          currency: 'CNY',
        },
      ]
    }
  } else {
    out.amount = { total, currency: 'CNY', payer_currency: 'CNY' }
  }
  return out
}
