/**
 * @module
 * The refund facts of the transition function (transition.ts): a refund is requested within what
 * the order has left, accepted once, moved forward by WeChat's word (its first final state is the
 * only one), and dropped only while still REQUESTING.
 */
import type { RefundRecord } from '../wechat/refund'
import { isPaid, type OrderRecord, REFUND_RANK, type Refund } from './record'
import { refuseNewRefund } from './refunds'
import { changed, refuse, type Transition, unchanged } from './transition'

export function refundRequested(record: OrderRecord, refund: Refund, now: string): Transition {
  if (findRefund(record, refund.out_refund_no))
    return refuse('refund_exists', `out_refund_no ${refund.out_refund_no} is taken`)
  if (refund.refund_status !== 'REQUESTING') return refuse('not_requesting', 'a new refund is REQUESTING')
  const refused = refuseNewRefund(record, refund.refund_fee)
  if (refused) return refuse(refused.kind === 'notPaid' ? 'not_paid' : 'exceeds_order', refused.message)
  return changed({ ...record, refunds: [...(record.refunds ?? []), refund], updated_at: now })
}

export function refundAccepted(record: OrderRecord, outRefundNo: string, refundId: string, now: string): Transition {
  return changeRefund(record, outRefundNo, now, (refund) => ({
    ...refund,
    refund_id: refund.refund_id ?? refundId,
    refund_status: refund.refund_status === 'REQUESTING' ? 'PROCESSING' : refund.refund_status,
  }))
}

export function refundDropped(record: OrderRecord, outRefundNo: string, now: string): Transition {
  const refund = findRefund(record, outRefundNo)
  if (!refund) return unchanged(record)
  // WeChat's word that the refund exists (PROCESSING) or how it ended is never undone.
  if (refund.refund_status !== 'REQUESTING')
    return refuse('not_requesting', `refund ${outRefundNo} is ${refund.refund_status}`)
  return changed({ ...record, refunds: (record.refunds ?? []).filter((r) => r !== refund), updated_at: now })
}

export function refundReported(record: OrderRecord, reported: RefundRecord, now: string): Transition {
  const known = findRefund(record, reported.out_refund_no)
  let refund: Refund
  if (known) {
    if (known.refund_fee !== reported.refund_fee) {
      return refuse(
        'amount_mismatch',
        `WeChat reports refund_fee ${reported.refund_fee} for ${reported.out_refund_no}, ${known.refund_fee} was asked`,
      )
    }
    refund = { ...known }
    if (REFUND_RANK[reported.refund_status] > REFUND_RANK[known.refund_status])
      refund.refund_status = reported.refund_status
    refund.refund_id ??= reported.refund_id
    refund.success_time ??= reported.success_time
    refund.refund_recv_accout ??= reported.refund_recv_accout
    if (JSON.stringify(refund) === JSON.stringify(known)) return unchanged(record)
    refund.updated_at = now
  } else {
    if (!isPaid(record.trade_state)) return refuse('not_paid', `order ${record.out_trade_no} is not paid`)
    refund = madeElsewhere(record, reported, now)
    if (refund.refund_status !== 'REFUNDCLOSE') {
      const refused = refuseNewRefund(record, refund.refund_fee)
      if (refused) return refuse(refused.kind === 'notPaid' ? 'not_paid' : 'exceeds_order', refused.message)
    }
  }
  const refunds = known
    ? (record.refunds ?? []).map((r) => (r === known ? refund : r))
    : [...(record.refunds ?? []), refund]
  const refunded = refund.refund_status === 'SUCCESS' && isPaid(record.trade_state)
  return changed({ ...record, refunds, ...(refunded && { trade_state: 'REFUND' as const }), updated_at: now })
}

/** A refund WeChat reports that was not asked for here (e.g. made on the merchant platform). */
function madeElsewhere(record: OrderRecord, reported: RefundRecord, now: string): Refund {
  return {
    out_refund_no: reported.out_refund_no,
    refund_fee: reported.refund_fee,
    notify_url: record.notify_url,
    fingerprint: 'reported-by-wechat',
    refund_status: reported.refund_status,
    refund_id: reported.refund_id,
    ...(reported.success_time !== undefined && { success_time: reported.success_time }),
    ...(reported.refund_recv_accout !== undefined && { refund_recv_accout: reported.refund_recv_accout }),
    requested_at: now,
    updated_at: now,
  }
}

export function changeRefund(
  record: OrderRecord,
  outRefundNo: string,
  now: string,
  change: (refund: Refund) => Refund,
): Transition {
  const refund = findRefund(record, outRefundNo)
  if (!refund) return refuse('unknown_refund', `order ${record.out_trade_no} has no refund ${outRefundNo}`)
  const next = change(refund)
  if (JSON.stringify(next) === JSON.stringify(refund)) return unchanged(record)
  const refunds = (record.refunds ?? []).map((r) => (r === refund ? { ...next, updated_at: now } : r))
  return changed({ ...record, refunds, updated_at: now })
}

export function findRefund(record: OrderRecord, outRefundNo: string): Refund | undefined {
  return record.refunds?.find((refund) => refund.out_refund_no === outRefundNo)
}
