/**
 * @module
 * The one place an order changes: `transition(record, fact, now)` applies one fact to the stored
 * record and says what the record is now, or why the fact is refused. The rules it keeps:
 * states only move forward (a payment outranks a close, 关单 ORDERPAID race, reference §5); a
 * learned fact is never replaced; a transaction_id is set once; refunds never add up past the
 * order; a refund's first final state is its only one, and a final refund is never dropped; a
 * delivered relay stays delivered.
 */
import type { RefundRecord } from '../wechat/refund'
import {
  isFinalRefund,
  isPaid,
  isSettled,
  type OrderRecord,
  type Payment,
  REFUND_RANK,
  type Refund,
  TRADE_RANK,
  type TradeState,
} from './record'
import { refuseNewRefund } from './refunds'
import { PAYMENT, refundNoOf } from './tasks'

/** What a placement's unifiedorder reply gave. */
export type Prepay = Pick<OrderRecord, 'prepay_id' | 'prepay_expires_at' | 'code_url' | 'mweb_url'>

/** One thing learned or done about an order. */
export type Fact =
  /** The order was placed (there is no record yet). */
  | { kind: 'placed'; record: OrderRecord }
  /** A new prepay_id for an unsettled order (the last one expired). */
  | { kind: 'prepay'; prepay: Prepay }
  /** WeChat's word on the order's state. */
  | { kind: 'state'; trade_state: TradeState }
  /** A verified payment. */
  | { kind: 'paid'; payment: Payment }
  /** A new refund, held as REQUESTING before WeChat is asked. */
  | { kind: 'refundRequested'; refund: Refund }
  /** WeChat accepted the refund (its reply, matched to the request). */
  | { kind: 'refundAccepted'; out_refund_no: string; refund_id: string }
  /** WeChat's signed word on a refund (refundquery); one not asked for here is recorded as made elsewhere. */
  | { kind: 'refundReported'; reported: RefundRecord }
  /** WeChat did not take the refund (a final no, or REFUNDNOTEXIST confirmed): its money is no longer held. */
  | { kind: 'refundDropped'; out_refund_no: string }
  /** The shop has the relay (`payment` or `refund:<out_refund_no>`). */
  | { kind: 'relayed'; relay: string }
  /** A relay attempt failed. */
  | { kind: 'relayFailed'; relay: string; error: string }
  /** The relay retry schedule is spent without a delivery. */
  | { kind: 'relaySpent'; relay: string }

export type Refusal =
  | 'no_record'
  | 'placed_already'
  | 'settled'
  | 'amount_mismatch'
  | 'transaction_mismatch'
  | 'not_paid'
  | 'exceeds_order'
  | 'refund_exists'
  | 'unknown_refund'
  | 'not_requesting'

/** The record after the fact (`changed` false when it adds nothing), or why the fact is refused. */
export type Transition =
  | { ok: true; record: OrderRecord; changed: boolean }
  | { ok: false; refusal: Refusal; message: string }

/**
 * Applies `fact` to `record` (`null`: no record yet). Pure: the caller stores what it returns.
 * @example transition(record, { kind: 'state', trade_state: 'NOTPAY' }, now) // a paid record: unchanged
 */
export function transition(record: OrderRecord | null, fact: Fact, now: string): Transition {
  if (fact.kind === 'placed') {
    return record ? refuse('placed_already', `order ${record.out_trade_no} is placed already`) : changed(fact.record)
  }
  if (!record) return refuse('no_record', 'no record of the order')
  const no = record.out_trade_no
  const next = (change: Partial<OrderRecord>): Transition => changed({ ...record, ...change, updated_at: now })
  switch (fact.kind) {
    case 'prepay':
      if (isSettled(record.trade_state)) return refuse('settled', `order ${no} is ${record.trade_state}`)
      return next(fact.prepay)
    case 'state':
      // A refund follows a payment: REFUND is WeChat's word only once the money moved.
      if (fact.trade_state === 'REFUND' && !record.payment) return unchanged(record)
      if (TRADE_RANK[fact.trade_state] <= TRADE_RANK[record.trade_state]) return unchanged(record)
      return next({ trade_state: fact.trade_state })
    case 'paid':
      return paid(record, fact.payment, now)
    case 'refundRequested': {
      if (findRefund(record, fact.refund.out_refund_no))
        return refuse('refund_exists', `out_refund_no ${fact.refund.out_refund_no} is taken`)
      if (fact.refund.refund_status !== 'REQUESTING') return refuse('not_requesting', 'a new refund is REQUESTING')
      const refused = refuseNewRefund(record, fact.refund.refund_fee)
      if (refused) return refuse(refused.kind === 'notPaid' ? 'not_paid' : 'exceeds_order', refused.message)
      return next({ refunds: [...(record.refunds ?? []), fact.refund] })
    }
    case 'refundAccepted':
      return changeRefund(record, fact.out_refund_no, now, (refund) => ({
        ...refund,
        refund_id: refund.refund_id ?? fact.refund_id,
        refund_status: refund.refund_status === 'REQUESTING' ? 'PROCESSING' : refund.refund_status,
      }))
    case 'refundReported':
      return reported(record, fact.reported, now)
    case 'refundDropped': {
      const refund = findRefund(record, fact.out_refund_no)
      if (!refund) return unchanged(record)
      // WeChat's word that the refund exists (PROCESSING) or how it ended is never undone.
      if (refund.refund_status !== 'REQUESTING')
        return refuse('not_requesting', `refund ${fact.out_refund_no} is ${refund.refund_status}`)
      return next({ refunds: (record.refunds ?? []).filter((r) => r !== refund) })
    }
    case 'relayed':
      return changeRelay(record, fact.relay, now, (state) => (state.relayed_at ? null : { relayed_at: now }))
    case 'relayFailed':
      return changeRelay(record, fact.relay, now, (state) =>
        state.relayed_at ? null : { relay_failures: (state.relay_failures ?? 0) + 1, relay_error: fact.error },
      )
    case 'relaySpent':
      return changeRelay(record, fact.relay, now, (state) =>
        state.relayed_at || state.relay_failed_at ? null : { relay_failed_at: now },
      )
  }
}

function paid(record: OrderRecord, payment: Payment, now: string): Transition {
  const no = record.out_trade_no
  if (payment.out_trade_no !== no || payment.total_fee !== record.total_fee)
    return refuse('amount_mismatch', `total_fee ${payment.total_fee} does not match order ${no}`)
  if (record.transaction_id && record.transaction_id !== payment.transaction_id)
    return refuse('transaction_mismatch', `transaction_id does not match order ${no}`)
  if (record.payment) return unchanged(record)
  const next: OrderRecord = {
    ...record,
    trade_state: TRADE_RANK[record.trade_state] > TRADE_RANK.SUCCESS ? record.trade_state : 'SUCCESS',
    payment,
    updated_at: now,
  }
  // Facts a v1 record may already carry are kept as learned.
  next.transaction_id ??= payment.transaction_id
  next.time_end ??= payment.time_end
  next.cash_fee ??= payment.cash_fee
  next.bank_type ??= payment.bank_type
  if (payment.openid) next.openid ??= payment.openid
  return changed(next)
}

function reported(record: OrderRecord, reported: RefundRecord, now: string): Transition {
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

function changeRefund(
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

type RelayState = Pick<Refund, 'relayed_at' | 'relay_failures' | 'relay_error' | 'relay_failed_at'>

function changeRelay(
  record: OrderRecord,
  relay: string,
  now: string,
  change: (state: RelayState) => Partial<RelayState> | null,
): Transition {
  if (relay === PAYMENT) {
    if (!record.payment) return refuse('not_paid', `order ${record.out_trade_no} has no payment to relay`)
    const next = change(record)
    return next ? changed({ ...record, ...next, updated_at: now }) : unchanged(record)
  }
  const outRefundNo = refundNoOf(relay)
  const refund = findRefund(record, outRefundNo)
  if (!refund || !isFinalRefund(refund.refund_status))
    return refuse('unknown_refund', `order ${record.out_trade_no} has no final refund ${outRefundNo}`)
  return changeRefund(record, outRefundNo, now, (current) => {
    const next = change(current)
    return next ? { ...current, ...next } : current
  })
}

function findRefund(record: OrderRecord, outRefundNo: string): Refund | undefined {
  return record.refunds?.find((refund) => refund.out_refund_no === outRefundNo)
}

const changed = (record: OrderRecord): Transition => ({ ok: true, record, changed: true })
const unchanged = (record: OrderRecord): Transition => ({ ok: true, record, changed: false })
const refuse = (refusal: Refusal, message: string): Transition => ({ ok: false, refusal, message })
