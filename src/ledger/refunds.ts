/**
 * @module
 * The refund rules the ledger applies, as pure functions of the record: what a new refund may
 * take (never more than was paid, counting every refund not closed — in flight too), and the
 * refund as the shop receives it.
 */
import type { Failure } from '../errors'
import type { OrderRecord, Refund } from './record'

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
