/**
 * The one transition function, walked over every pair of (stored state, incoming fact): each
 * result keeps the rules (states only move forward, a learned fact is never replaced, a
 * transaction_id is set once, refunds never exceed the order, a final refund state is never
 * replaced or dropped, a delivered relay stays delivered), and the pairs that matter most are
 * checked for their exact outcome.
 */
import { describe, expect, it } from 'vitest'
import {
  type OrderRecord,
  type Payment,
  REFUND_STATES,
  type Refund,
  type RefundState,
  TRADE_RANK,
  TRADE_STATES,
  type TradeState,
} from '../../src/ledger/record'
import { type Fact, transition } from '../../src/ledger/transition'

const NOW = '2026-12-06T00:00:00.000Z'
const BEFORE = '2026-12-01T00:00:00.000Z'
const TOTAL = 100

const payment = (transaction_id = '4200000000000000000000000001', total_fee = TOTAL): Payment => ({
  out_trade_no: 'O1',
  transaction_id,
  trade_state: 'SUCCESS',
  total_fee,
  cash_fee: total_fee,
  fee_type: 'CNY',
  time_end: '20261201120000',
  openid: 'openid',
  trade_type: 'JSAPI',
  bank_type: 'CFT',
})

const refund = (status: RefundState, out_refund_no = 'R1', refund_fee = 60): Refund => ({
  out_refund_no,
  refund_fee,
  notify_url: 'https://shop.test/refund',
  fingerprint: 'fp',
  refund_status: status,
  ...(status !== 'REQUESTING' && { refund_id: `id-${out_refund_no}` }),
  ...(status === 'SUCCESS' && { success_time: '2026-12-01 12:00:00', relayed_at: BEFORE }),
  requested_at: BEFORE,
  updated_at: BEFORE,
})

function record(trade_state: TradeState, refunds?: Refund[]): OrderRecord {
  const paid = TRADE_RANK[trade_state] >= TRADE_RANK.SUCCESS
  return {
    v: 2,
    out_trade_no: 'O1',
    trade_type: 'JSAPI',
    body: 'b',
    total_fee: TOTAL,
    notify_url: 'https://shop.test/paid',
    fingerprint: 'f',
    trade_state,
    ...(paid && {
      payment: payment(),
      transaction_id: '4200000000000000000000000001',
      time_end: '20261201120000',
      relayed_at: BEFORE,
    }),
    ...(refunds && { refunds }),
    created_at: BEFORE,
    updated_at: BEFORE,
  }
}

// Every stored state: no record, each trade_state, and a paid order with one refund in each state.
const STORED: [string, OrderRecord | null][] = [
  ['no record', null],
  ...TRADE_STATES.map((state): [string, OrderRecord] => [state, record(state)]),
  ...REFUND_STATES.map((status): [string, OrderRecord] => [
    `SUCCESS + R1 ${status}`,
    record('SUCCESS', [refund(status)]),
  ]),
]

const reported = (
  refund_status: 'PROCESSING' | 'SUCCESS' | 'REFUNDCLOSE' | 'CHANGE',
  out_refund_no = 'R1',
  refund_fee = 60,
) => ({
  out_refund_no,
  refund_id: `id-${out_refund_no}`,
  refund_fee,
  refund_status,
  ...(refund_status === 'SUCCESS' && { success_time: '2026-12-05 08:00:00' }),
})

// Every kind of incoming fact, with the variants that test a rule.
const FACTS: [string, Fact][] = [
  ['placed', { kind: 'placed', record: record('NOTPAY') }],
  ['prepay', { kind: 'prepay', prepay: { prepay_id: 'wx2', prepay_expires_at: NOW } }],
  ...TRADE_STATES.map((trade_state): [string, Fact] => [`state ${trade_state}`, { kind: 'state', trade_state }]),
  ['paid', { kind: 'paid', payment: payment() }],
  ['paid, another transaction_id', { kind: 'paid', payment: payment('4200000000000000000000000002') }],
  ['paid, another total_fee', { kind: 'paid', payment: payment(undefined, 99) }],
  ['refund R2 of 40 requested', { kind: 'refundRequested', refund: refund('REQUESTING', 'R2', 40) }],
  ['refund R2 of 41 requested', { kind: 'refundRequested', refund: refund('REQUESTING', 'R2', 41) }],
  ['refund R1 requested again', { kind: 'refundRequested', refund: refund('REQUESTING') }],
  ['R1 accepted', { kind: 'refundAccepted', out_refund_no: 'R1', refund_id: 'id-other' }],
  ...(['PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE'] as const).map((status): [string, Fact] => [
    `R1 reported ${status}`,
    { kind: 'refundReported', reported: reported(status) },
  ]),
  ['R1 reported with another refund_fee', { kind: 'refundReported', reported: reported('SUCCESS', 'R1', 61) }],
  ['R9 of 40 made elsewhere reported', { kind: 'refundReported', reported: reported('SUCCESS', 'R9', 40) }],
  ['R9 of 41 made elsewhere reported', { kind: 'refundReported', reported: reported('SUCCESS', 'R9', 41) }],
  ['R1 dropped', { kind: 'refundDropped', out_refund_no: 'R1' }],
  ['payment relayed', { kind: 'relayed', relay: 'payment' }],
  ['payment relay failed', { kind: 'relayFailed', relay: 'payment', error: 'HTTP 503' }],
  ['payment relay spent', { kind: 'relaySpent', relay: 'payment' }],
  ['R1 relayed', { kind: 'relayed', relay: 'refund:R1' }],
]

const PAIRS = STORED.flatMap(([stored, before]) => FACTS.map(([fact, f]) => ({ stored, before, fact, f })))

const held = (r: OrderRecord) =>
  (r.refunds ?? []).filter((x) => x.refund_status !== 'REFUNDCLOSE').reduce((sum, x) => sum + x.refund_fee, 0)
const isFinal = (status: RefundState) => status !== 'REQUESTING' && status !== 'PROCESSING'

describe('transition: every (stored state, incoming fact) keeps the rules', () => {
  it('walks all pairs', () => {
    expect(PAIRS).toHaveLength(STORED.length * FACTS.length)
    expect(PAIRS.length).toBeGreaterThan(400)
  })

  it.each(PAIRS)('$stored ← $fact', ({ before, f }) => {
    const snapshot = JSON.stringify(before)
    const result = transition(before, f, NOW)
    expect(JSON.stringify(before)).toBe(snapshot) // pure: the stored record is never changed in place
    if (!result.ok) return
    if (!result.changed) {
      expect(result.record).toBe(before)
      return
    }
    const after = result.record
    if (!before) {
      expect(f.kind).toBe('placed')
      return
    }
    expect(after.updated_at).toBe(NOW)
    // States only move forward.
    expect(TRADE_RANK[after.trade_state]).toBeGreaterThanOrEqual(TRADE_RANK[before.trade_state])
    // A transaction_id is set once; a payment is never replaced.
    if (before.transaction_id) expect(after.transaction_id).toBe(before.transaction_id)
    if (before.payment) expect(after.payment).toEqual(before.payment)
    if (after.payment) expect(after.transaction_id).toBe(after.payment.transaction_id)
    // A delivered relay stays delivered.
    if (before.relayed_at) expect(after.relayed_at).toBe(before.relayed_at)
    // Refunds never exceed the order.
    expect(held(after)).toBeLessThanOrEqual(after.total_fee)
    for (const was of before.refunds ?? []) {
      const now = after.refunds?.find((r) => r.out_refund_no === was.out_refund_no)
      // Only a REQUESTING refund can be dropped, and only by a refundDropped fact.
      if (!now) {
        expect([was.refund_status, f.kind]).toEqual(['REQUESTING', 'refundDropped'])
        continue
      }
      expect(now.refund_fee).toBe(was.refund_fee)
      // A final refund state is never replaced; a learned fact is never replaced.
      if (isFinal(was.refund_status)) expect(now.refund_status).toBe(was.refund_status)
      if (was.refund_id) expect(now.refund_id).toBe(was.refund_id)
      if (was.success_time) expect(now.success_time).toBe(was.success_time)
      if (was.relayed_at) expect(now.relayed_at).toBe(was.relayed_at)
    }
  })
})

describe('transition: the outcomes that matter', () => {
  const outcome = (before: OrderRecord | null, f: Fact) => {
    const result = transition(before, f, NOW)
    return result.ok ? (result.changed ? 'changed' : 'unchanged') : result.refusal
  }

  it.each(TRADE_STATES.flatMap((from) => TRADE_STATES.map((to) => ({ from, to }))))(
    'state $from ← $to moves only forward',
    ({ from, to }) => {
      const result = transition(record(from), { kind: 'state', trade_state: to }, NOW)
      const expected =
        TRADE_RANK[to] > TRADE_RANK[from] && (to !== 'REFUND' || TRADE_RANK[from] >= TRADE_RANK.SUCCESS) ? to : from
      expect(result.ok && result.record.trade_state).toBe(expected)
    },
  )

  it.each(REFUND_STATES)('a refund %s is dropped only while REQUESTING', (status) => {
    expect(outcome(record('SUCCESS', [refund(status)]), { kind: 'refundDropped', out_refund_no: 'R1' })).toBe(
      status === 'REQUESTING' ? 'changed' : 'not_requesting',
    )
  })

  it.each(
    REFUND_STATES.flatMap((from) =>
      (['PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE'] as const).map((to) => ({ from, to })),
    ),
  )('a refund $from ← reported $to: the first final state is the only one', ({ from, to }) => {
    const result = transition(
      record('SUCCESS', [refund(from)]),
      { kind: 'refundReported', reported: reported(to) },
      NOW,
    )
    const expected = isFinal(from) ? from : from === 'PROCESSING' && to === 'PROCESSING' ? from : to
    expect(result.ok && result.record.refunds?.[0]?.refund_status).toBe(expected)
  })

  it('a payment closes nothing: it outranks a close, and the first transaction_id is the only one', () => {
    expect(transition(record('CLOSED'), { kind: 'paid', payment: payment() }, NOW)).toMatchObject({
      ok: true,
      record: { trade_state: 'SUCCESS', transaction_id: '4200000000000000000000000001' },
    })
    expect(outcome(record('SUCCESS'), { kind: 'paid', payment: payment('4200000000000000000000000002') })).toBe(
      'transaction_mismatch',
    )
    expect(outcome(record('NOTPAY'), { kind: 'paid', payment: payment(undefined, 99) })).toBe('amount_mismatch')
    expect(outcome(record('REFUND'), { kind: 'paid', payment: payment() })).toBe('unchanged')
  })

  it('refunds: up to the order and no further, on a paid order only', () => {
    const paid = record('SUCCESS', [refund('PROCESSING')])
    expect(outcome(paid, { kind: 'refundRequested', refund: refund('REQUESTING', 'R2', 40) })).toBe('changed')
    expect(outcome(paid, { kind: 'refundRequested', refund: refund('REQUESTING', 'R2', 41) })).toBe('exceeds_order')
    expect(outcome(record('NOTPAY'), { kind: 'refundRequested', refund: refund('REQUESTING') })).toBe('not_paid')
    expect(outcome(paid, { kind: 'refundRequested', refund: refund('REQUESTING') })).toBe('refund_exists')
    // A closed refund holds nothing.
    const closed = record('SUCCESS', [refund('REFUNDCLOSE', 'R1', 100)])
    expect(outcome(closed, { kind: 'refundRequested', refund: refund('REQUESTING', 'R2', 100) })).toBe('changed')
  })

  it('accepting a refund takes REQUESTING to PROCESSING and never moves a final state back', () => {
    const accept: Fact = { kind: 'refundAccepted', out_refund_no: 'R1', refund_id: 'id-R1' }
    const requesting = transition(record('SUCCESS', [refund('REQUESTING')]), accept, NOW)
    expect(requesting.ok && requesting.record.refunds?.[0]).toMatchObject({
      refund_status: 'PROCESSING',
      refund_id: 'id-R1',
    })
    expect(outcome(record('SUCCESS', [refund('SUCCESS')]), accept)).toBe('unchanged')
  })

  it('a relay delivered stays delivered: a later failure or a spent schedule changes nothing', () => {
    const delivered = record('SUCCESS')
    expect(outcome(delivered, { kind: 'relayFailed', relay: 'payment', error: 'HTTP 503' })).toBe('unchanged')
    expect(outcome(delivered, { kind: 'relaySpent', relay: 'payment' })).toBe('unchanged')
    const { relayed_at: _, ...undelivered } = delivered
    expect(transition(undelivered, { kind: 'relaySpent', relay: 'payment' }, NOW)).toMatchObject({
      ok: true,
      record: { relay_failed_at: NOW },
    })
  })
})
