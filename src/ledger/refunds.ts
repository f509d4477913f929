/**
 * @module
 * The refund rules the ledger applies, as pure functions of the record: what a new refund may
 * take (never more than was paid, counting every refund not closed — in flight too), whether an
 * out_refund_no is asked again the same way, and how WeChat's word moves a refund forward.
 */
import type { Failure } from '../errors'
import type { RefundRecord } from '../wechat/refund'
import { isFinalRefund, type OrderRecord, type Refund, type RefundState } from './record'

/** WeChat's limit on refunds per order (refunds reference §1.3). */
export const MAX_REFUNDS = 50

/** The money refunds hold against the order: all but closed ones, whether WeChat has answered yet or not. */
export function refundedOrHeld(record: OrderRecord): number {
  return (record.refunds ?? [])
    .filter((refund) => refund.refund_status !== 'REFUNDCLOSE')
    .reduce((sum, refund) => sum + refund.refund_fee, 0)
}

/** Why a new refund of `fee` cannot be taken, or `undefined` when it can. */
export function refuseNewRefund(record: OrderRecord, fee: number): Failure | undefined {
  const no = record.out_trade_no
  if (!record.payment) return { kind: 'notPaid', message: `order ${no} is not paid: nothing to refund` }
  if ((record.refunds ?? []).length >= MAX_REFUNDS)
    return { kind: 'refundTooLarge', message: `order ${no} already has ${MAX_REFUNDS} refunds, WeChat's limit` }
  const held = refundedOrHeld(record)
  if (held + fee > record.total_fee) {
    return {
      kind: 'refundTooLarge',
      message: `refund_fee ${fee} plus ${held} already refunded or in progress exceeds total_fee ${record.total_fee} of order ${no}`,
    }
  }
  return undefined
}

const RANK: Record<RefundState, number> = { REQUESTING: 0, PROCESSING: 1, SUCCESS: 2, REFUNDCLOSE: 2, CHANGE: 2 }

/**
 * What WeChat reported about a refund, applied forward only: a state never goes back, the first
 * final state is the only one, a learned fact is never replaced. `null` when nothing changes.
 */
export function learnRefund(refund: Refund, reported: RefundRecord, now: string): Refund | null {
  const next: Refund = { ...refund }
  if (RANK[reported.refund_status] > RANK[refund.refund_status] && !isFinalRefund(refund.refund_status)) {
    next.refund_status = reported.refund_status
  }
  next.refund_id ??= reported.refund_id
  next.success_time ??= reported.success_time
  next.refund_recv_accout ??= reported.refund_recv_accout
  if (JSON.stringify(next) === JSON.stringify(refund)) return null
  next.updated_at = now
  return next
}

/** The refund as the shop receives it: `{"type": "refund", "data": …}`. */
export function refundEvent(record: OrderRecord, refund: Refund) {
  return {
    out_trade_no: record.out_trade_no,
    out_refund_no: refund.out_refund_no,
    refund_id: refund.refund_id ?? '',
    transaction_id: record.transaction_id ?? '',
    refund_fee: refund.refund_fee,
    total_fee: record.total_fee,
    refund_status: refund.refund_status,
    ...(refund.success_time !== undefined && { success_time: refund.success_time }),
    ...(refund.refund_recv_accout !== undefined && { refund_recv_accout: refund.refund_recv_accout }),
  }
}
