/**
 * @module
 * 申请退款 and 查询退款 as WeChat answers them (refunds reference §1, §2). A refund of a paid order
 * starts PROCESSING; `POST /sandbox/refund` completes it (refunds.ts). Rules, in WeChat's order:
 *  - refund_fee > total_fee is a protocol failure, `return_msg invalid refund_fee` (observed, §1.4);
 *  - an order that does not exist or is not paid: ORDERNOTEXIST;
 *  - a known out_refund_no with the same order and amounts is the same refund, answered again
 *    (a closed one is resubmitted, as WeChat asks merchants to do, §1.3); other amounts:
 *    REFUND_FEE_MISMATCH; another order: INVALID_REQUEST;
 *  - total_fee must be the order's own (INVALID_REQUEST), at most 50 refunds per order, and the
 *    refunds not closed may add up to total_fee: ERROR 订单已全额退款 when nothing is left,
 *    INVALID_REQUEST refund_fee大于可退金额 when this one is too large (§1.4, §5.3).
 * The sandbox reads and writes KV without locks: concurrent refunds of one order can both pass.
 */
import type { Fields } from '../wechat/xml'
import { refundId } from './ids'
import { indexRefund, loadByRefund, loadByTransaction, loadOrder, type Order, type Refund, saveOrder } from './orders'
import { type Result, refuse } from './protocol'
import { checkNotifyUrl, checkRequired, invalid } from './rules'
import { beijingDateTime, now } from './time'

/** A result, or a protocol-level failure answered `return_code FAIL` with this `return_msg`. */
export type Outcome = Result | Accepted | { returnMsg: string }
/** An accepted refund, with the records it was written in (v3 answers them without reading KV again). */
export type Accepted = { ok: true; fields: Record<string, string>; order: Order; refund: Refund }

/** "每个支付订单的部分退款次数不能超过50次" (§1.3). */
export const MAX_REFUNDS = 50
/** refundquery by order returns at most this many refunds from `offset` (§2.2). */
export const PAGE = 10

/** Handles a verified, merchant-checked `/secapi/pay/refund` request. */
export function refund(kv: KVNamespace, fields: Fields): Promise<Outcome> {
  return requestRefund(kv, fields)
}

/** A refund by the v2 rules; `api` marks one requested through v3 (v3/refund.ts). */
export async function requestRefund(kv: KVNamespace, fields: Fields, api?: 'v3'): Promise<Outcome> {
  const problem =
    checkRequired(fields, ['nonce_str', 'out_refund_no', 'total_fee', 'refund_fee']) ??
    (fields.transaction_id || fields.out_trade_no
      ? undefined
      : refuse('LACK_PARAMS', '缺少参数transaction_id或out_trade_no')) ??
    (fields.notify_url ? checkNotifyUrl(fields.notify_url) : undefined)
  if (problem) return problem
  const totalFee = Number(fields.total_fee)
  const refundFee = Number(fields.refund_fee)
  if (refundFee > totalFee) return { returnMsg: 'invalid refund_fee' }
  // transaction_id wins when both are given (§1.1).
  const order = fields.transaction_id
    ? await loadByTransaction(kv, fields.transaction_id)
    : await loadOrder(kv, fields.out_trade_no as string)
  if (!order?.payment || order.trade_state !== 'SUCCESS') {
    return refuse('ORDERNOTEXIST', '订单号不存在或未支付,未支付的订单不能发起退款')
  }
  const outRefundNo = fields.out_refund_no as string
  const known = await loadByRefund(kv, { out_refund_no: outRefundNo })
  if (known && known.order.out_trade_no !== order.out_trade_no) {
    return invalid('out_refund_no已用于其他订单')
  }
  const refunds = order.refunds ?? []
  const existing = refunds.find((r) => r.out_refund_no === outRefundNo)
  if (existing && (existing.total_fee !== fields.total_fee || existing.refund_fee !== fields.refund_fee)) {
    return refuse('REFUND_FEE_MISMATCH', '订单金额或退款金额与之前请求不一致,请核实后再试')
  }
  if (existing && existing.status !== 'REFUNDCLOSE') return accepted(order, existing)

  if (fields.total_fee !== order.request.total_fee) return invalid('total_fee与订单金额不一致')
  if (!existing && refunds.length >= MAX_REFUNDS) return invalid(`每个支付订单的部分退款次数不能超过${MAX_REFUNDS}次`)
  const open = refunds.reduce(
    (sum, r) => (r === existing || r.status === 'REFUNDCLOSE' ? sum : sum + Number(r.refund_fee)),
    0,
  )
  if (open >= totalFee) return refuse('ERROR', '订单已全额退款')
  if (open + refundFee > totalFee) return invalid('refund_fee大于可退金额')

  const at = now()
  const record: Refund = existing ?? {
    out_refund_no: outRefundNo,
    refund_id: refundId(at),
    total_fee: fields.total_fee as string,
    refund_fee: fields.refund_fee as string,
    ...(fields.refund_desc ? { refund_desc: fields.refund_desc } : {}),
    ...(fields.notify_url ? { notify_url: fields.notify_url } : {}),
    status: 'PROCESSING',
    created_at: at,
    notification: { delivered: false, attempts: [] },
    // Requested through v3: notified in v3's form. Set in the same write (the sandbox's KV has no locks).
    ...(api ? { api } : {}),
  }
  if (existing) {
    // A closed refund submitted again under its own number is retried (§1.3).
    existing.status = 'PROCESSING'
    existing.completed_at = undefined
    existing.notification = { delivered: false, attempts: [] }
  } else {
    refunds.push(record)
    await indexRefund(kv, order.out_trade_no, record)
  }
  order.refunds = refunds
  await saveOrder(kv, order)
  return accepted(order, record)
}

/** The §1.2 success fields; `refund_channel` is sent empty, as in real replies. */
function accepted(order: Order, refund: Refund): Accepted {
  return {
    ok: true,
    order,
    refund,
    fields: {
      transaction_id: order.payment?.transaction_id ?? '',
      out_trade_no: order.out_trade_no,
      out_refund_no: refund.out_refund_no,
      refund_id: refund.refund_id,
      refund_channel: '',
      refund_fee: refund.refund_fee,
      coupon_refund_fee: '0',
      coupon_refund_count: '0',
      total_fee: refund.total_fee,
      cash_fee: order.payment?.cash_fee ?? '',
      cash_refund_fee: refund.refund_fee,
    },
  }
}

/** Handles a verified, merchant-checked `/pay/refundquery` request (priority refund_id > out_refund_no > transaction_id > out_trade_no). */
export async function refundQuery(kv: KVNamespace, fields: Fields): Promise<Outcome> {
  const problem = checkRequired(fields, ['nonce_str'])
  if (problem) return problem
  const { refund_id, out_refund_no, transaction_id, out_trade_no } = fields
  if (!refund_id && !out_refund_no && !transaction_id && !out_trade_no) {
    return refuse('LACK_PARAMS', '缺少参数refund_id、out_refund_no、transaction_id或out_trade_no')
  }
  const none = refuse('REFUNDNOTEXIST', '退款订单查询失败')
  if (refund_id || out_refund_no) {
    const found = await loadByRefund(kv, refund_id ? { refund_id } : { out_refund_no: out_refund_no as string })
    return found ? { ok: true, fields: listing(found.order, [found.refund], 0, 1) } : none
  }
  const order = transaction_id
    ? await loadByTransaction(kv, transaction_id)
    : await loadOrder(kv, out_trade_no as string)
  const refunds = order?.refunds ?? []
  if (!order || refunds.length === 0) return none
  const offset = fields.offset ? Number(fields.offset) : 0
  if (!/^[0-9]{0,3}$/.test(fields.offset ?? '') || offset >= refunds.length) {
    return refuse('PARAM_ERROR', 'offset参数错误,超过了退款总笔数')
  }
  return { ok: true, fields: listing(order, refunds.slice(offset, offset + PAGE), offset, refunds.length) }
}

/** The §2.2 reply: order fields, then each refund's `_$n` fields from 0. */
function listing(order: Order, refunds: Refund[], offset: number, total: number): Record<string, string> {
  const out: Record<string, string> = {
    transaction_id: order.payment?.transaction_id ?? '',
    out_trade_no: order.out_trade_no,
    total_fee: order.request.total_fee ?? '',
    cash_fee: order.payment?.cash_fee ?? '',
    fee_type: 'CNY',
    refund_count: String(refunds.length),
  }
  if (total > PAGE || offset > 0) Object.assign(out, { total_refund_count: String(total), offset: String(offset) })
  for (const [n, refund] of refunds.entries()) {
    out[`out_refund_no_${n}`] = refund.out_refund_no
    out[`refund_id_${n}`] = refund.refund_id
    out[`refund_channel_${n}`] = 'ORIGINAL'
    out[`refund_fee_${n}`] = refund.refund_fee
    out[`settlement_refund_fee_${n}`] = refund.refund_fee
    out[`refund_status_${n}`] = refund.status
    out[`refund_account_${n}`] = 'REFUND_SOURCE_UNSETTLED_FUNDS'
    out[`refund_recv_accout_${n}`] = RECEIVED_BY
    if (refund.status === 'SUCCESS' && refund.completed_at !== undefined) {
      out[`refund_success_time_${n}`] = beijingDateTime(refund.completed_at)
    }
  }
  return out
}

/** Where a refund of a balance payment goes (§2.2: "支付用户零钱"). */
export const RECEIVED_BY = '支付用户零钱'
