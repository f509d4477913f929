/**
 * @module
 * The one place an order changes: `transition(record, fact, now)` applies one fact to the stored
 * record and says what the record is now, or why the fact is refused. The rules it keeps:
 * states only move forward (a payment outranks a close, 关单 ORDERPAID race, reference §5); a
 * learned fact is never replaced; a transaction_id is set once; refunds never add up past the
 * order; a refund's first final state is its only one, and a final refund is never dropped; a
 * delivered relay stays delivered. The refund facts are in refund-transition.ts.
 */
import type { RefundRecord } from '../wechat/refund'
import {
  isFinalRefund,
  isSettled,
  type OrderRecord,
  type Payment,
  type Refund,
  TRADE_RANK,
  type TradeState,
} from './record'
import {
  changeRefund,
  findRefund,
  refundAccepted,
  refundDropped,
  refundReported,
  refundRequested,
} from './refund-transition'
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
    case 'refundRequested':
      return refundRequested(record, fact.refund, now)
    case 'refundAccepted':
      return refundAccepted(record, fact.out_refund_no, fact.refund_id, now)
    case 'refundReported':
      return refundReported(record, fact.reported, now)
    case 'refundDropped':
      return refundDropped(record, fact.out_refund_no, now)
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

export const changed = (record: OrderRecord): Transition => ({ ok: true, record, changed: true })
export const unchanged = (record: OrderRecord): Transition => ({ ok: true, record, changed: false })
export const refuse = (refusal: Refusal, message: string): Transition => ({ ok: false, refusal, message })
