/**
 * @module
 * 申请退款 and 查询单笔退款 in v3 (reference §6.10, §6.11): `POST /v3/refund/domestic/refunds` and
 * `GET /v3/refund/domestic/refunds/{out_refund_no}`, no client certificate. The business rules are
 * the v2 sandbox's own (refund.ts: the order must be paid, amounts within what is left, at most 50,
 * one out_refund_no one refund), applied to the same records; only the answers are v3's. A refund
 * requested here is marked `api: 'v3'`, so its notification is v3's whatever API placed the order.
 */
import { loadByRefund, type Order, type Refund } from '../orders'
import { RECEIVED_BY, requestRefund as refundV2 } from '../refund'
import { checkNotifyUrl, OUT_REFUND_NO, paramError, parseBody, RefundBody } from './fields'
import { refuse, type WechatError } from './protocol'
import { rfc3339 } from './time'
import type { Answer } from './transactions'

/** v3's refund status for the record's (v2) one (§6.10). */
export const STATUS = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  REFUNDCLOSE: 'CLOSED',
  CHANGE: 'ABNORMAL',
} as const

/** Requests a refund. */
export async function requestRefund(options: { kv: KVNamespace; json: unknown }): Promise<Answer | WechatError> {
  const { kv, json } = options
  const body = parseBody(RefundBody, json)
  if ('code' in body && 'status' in body) return body
  if (!body.transaction_id && !body.out_trade_no)
    return paramError('/out_trade_no', '须提供transaction_id或out_trade_no')
  const problem = body.notify_url === undefined ? undefined : checkNotifyUrl(body.notify_url)
  if (problem) return problem
  const fields: Record<string, string> = {
    // v2's envelope field, required by the shared rules; v3 has none.
    nonce_str: 'v3',
    out_refund_no: body.out_refund_no,
    total_fee: String(body.amount.total),
    refund_fee: String(body.amount.refund),
    ...(body.transaction_id ? { transaction_id: body.transaction_id } : { out_trade_no: body.out_trade_no as string }),
    ...(body.reason ? { refund_desc: body.reason } : {}),
    ...(body.notify_url ? { notify_url: body.notify_url } : {}),
  }
  const outcome = await refundV2(kv, fields, 'v3')
  if ('returnMsg' in outcome) return paramError('/amount/refund', '退款金额不能大于订单金额')
  if (!outcome.ok) {
    if (outcome.errCode === 'ORDERNOTEXIST') return refuse(404, 'RESOURCE_NOT_EXISTS', outcome.errCodeDes)
    return refuse(400, 'INVALID_REQUEST', outcome.errCodeDes.replace(/^参数错误: /, ''))
  }
  if (!('order' in outcome)) throw new Error(`sandbox refund ${body.out_refund_no} accepted without its record`)
  return { status: 200, body: refundObject(outcome.order, outcome.refund) }
}

/** Answers a refund by its out_refund_no. */
export async function queryRefund(options: { kv: KVNamespace; outRefundNo: string }): Promise<Answer | WechatError> {
  const { kv, outRefundNo } = options
  const found = OUT_REFUND_NO.test(outRefundNo) ? await loadByRefund(kv, { out_refund_no: outRefundNo }) : undefined
  if (!found) return refuse(404, 'RESOURCE_NOT_EXISTS', '退款单不存在')
  return { status: 200, body: refundObject(found.order, found.refund) }
}

/** The §6.10 refund object (no coupons in refunds: the payer's share is the whole refund). */
export function refundObject(order: Order, refund: Refund): Record<string, unknown> {
  const refunded = Number(refund.refund_fee)
  const total = Number(refund.total_fee)
  return {
    refund_id: refund.refund_id,
    out_refund_no: refund.out_refund_no,
    transaction_id: order.payment?.transaction_id ?? '',
    out_trade_no: order.out_trade_no,
    channel: 'ORIGINAL',
    user_received_account: RECEIVED_BY,
    ...(refund.status === 'SUCCESS' && refund.completed_at !== undefined
      ? { success_time: rfc3339(refund.completed_at) }
      : {}),
    create_time: rfc3339(refund.created_at),
    status: STATUS[refund.status],
    funds_account: 'AVAILABLE',
    amount: {
      total,
      refund: refunded,
      payer_total: Number(order.payment?.cash_fee ?? total),
      payer_refund: refunded,
      settlement_refund: refunded,
      settlement_total: total,
      discount_refund: 0,
      currency: 'CNY',
      from: [],
    },
  }
}
