/**
 * @module
 * Download and diff: the day's index keys are listed from KV with their metadata (one page per
 * 1,000 orders), the bill is read as a stream, and each bill line is compared with its key. What
 * agrees costs nothing more; what differs becomes an {@link Item} for a ledger to check. Memory
 * holds the day's index (about 150 bytes an order), never the bill.
 */
import { fail } from '../errors'
import type { PaidMeta, RefundedMeta } from '../ledger/snapshot'
import { keys } from '../ledger/snapshot'
import { type BillEntry, BillError, readBill } from '../wechat/bill'
import type { Client } from '../wechat/client'
import type { Report, Totals } from './report'

/** Something a ledger must look at: a bill line that differs from the index, or an index key to confirm. */
export type Item =
  /** A payment line whose `paid:` key is missing, lacks metadata or differs. */
  | { kind: 'payment'; out_trade_no: string; transaction_id: string; total_fee: number; counted: boolean }
  /** A refund line whose `refunded:` key is missing, lacks metadata, differs or is not final. */
  | { kind: 'refund'; out_trade_no: string; out_refund_no: string; refund_fee: number; refund_status: string }
  /** A `paid:` key of the day that no bill line matched. */
  | { kind: 'unbilled'; out_trade_no: string; counted: boolean }
  /** A `relay-failed:` key of the day: the ledger says which relays are still undelivered. */
  | { kind: 'relay'; out_trade_no: string }

export type Diff = {
  bill: Report['bill']
  totals: Totals
  malformed: Report['malformed']
  items: Item[]
}

const FINAL_REFUND = new Set(['SUCCESS', 'REFUNDCLOSE', 'CHANGE'])

/** Diffs the bill of `day` against the day's index keys. */
export async function diffDay(kv: KVNamespace, wechat: Client, day: string): Promise<Diff> {
  const [paid, refunded, failed] = await Promise.all([
    listed(kv, keys.paidPrefix(day), paidMeta),
    listed(kv, keys.refundedPrefix(day), refundedMeta),
    listed(kv, keys.relayFailedPrefix(day), () => null),
  ])
  const totals: Totals = {
    bill: { payments: 0, payment_fee: 0, refunds: 0, refund_fee: 0 },
    ledger: { payments: 0, payment_fee: 0 },
  }
  for (const meta of paid.values()) {
    if (!meta) continue
    totals.ledger.payments += 1
    totals.ledger.payment_fee += meta.total_fee
  }
  const items: Item[] = []
  const malformed: Report['malformed'] = []
  const answer = await wechat.bill({ bill_date: day, bill_type: 'ALL' })
  if (answer.kind === 'bill') {
    try {
      for await (const entry of readBill(answer.body)) {
        const item = compare(entry, paid, refunded, totals, malformed)
        if (item) items.push(item)
      }
    } catch (err) {
      // Cut short or not the ALL bill: the step is retried, and the run says why if it keeps failing.
      if (err instanceof BillError) throw fail('upstream', `the bill of ${day} could not be read: ${err.message}`)
      throw err
    }
  }
  // What the bill did not match: a ledger payment the bill lacks (or an old key to read).
  for (const [no, meta] of paid) items.push({ kind: 'unbilled', out_trade_no: no, counted: meta !== null })
  for (const no of failed.keys()) items.push({ kind: 'relay', out_trade_no: no })
  return { bill: answer.kind === 'bill' ? 'found' : 'none', totals, malformed, items }
}

/** The item a bill entry gives, if it differs; a matched `paid:` key is taken off the map. */
function compare(
  entry: BillEntry,
  paid: Map<string, PaidMeta | null>,
  refunded: Map<string, RefundedMeta | null>,
  totals: Totals,
  malformed: Report['malformed'],
): Item | undefined {
  if (entry.kind === 'malformed') {
    malformed.push({ line: entry.line, reason: entry.reason })
    return undefined
  }
  if (entry.kind !== 'row') return undefined
  const row = entry.row
  if (row.kind === 'payment') {
    totals.bill.payments += 1
    totals.bill.payment_fee += row.total_fee
    const meta = paid.get(row.out_trade_no)
    paid.delete(row.out_trade_no)
    if (meta && meta.total_fee === row.total_fee && meta.transaction_id === row.transaction_id) return undefined
    return {
      kind: 'payment',
      out_trade_no: row.out_trade_no,
      transaction_id: row.transaction_id,
      total_fee: row.total_fee,
      counted: Boolean(meta),
    }
  }
  if (row.kind === 'refund') {
    totals.bill.refunds += 1
    totals.bill.refund_fee += row.refund_fee
    const meta = refunded.get(row.out_refund_no)
    if (
      meta &&
      meta.out_trade_no === row.out_trade_no &&
      meta.refund_fee === row.refund_fee &&
      FINAL_REFUND.has(meta.refund_status)
    )
      return undefined
    return {
      kind: 'refund',
      out_trade_no: row.out_trade_no,
      out_refund_no: row.out_refund_no,
      refund_fee: row.refund_fee,
      refund_status: row.refund_status,
    }
  }
  return undefined
}

/** Every key under `prefix` by its last segment, with its metadata read by `meta` (null: none or unreadable). */
async function listed<M>(kv: KVNamespace, prefix: string, meta: (value: unknown) => M | null) {
  const out = new Map<string, M | null>()
  let cursor: string | undefined
  for (;;) {
    const page = await kv.list({ prefix, ...(cursor && { cursor }) })
    for (const key of page.keys) out.set(key.name.slice(prefix.length), meta(key.metadata))
    if (page.list_complete) return out
    cursor = page.cursor
  }
}

function paidMeta(value: unknown): PaidMeta | null {
  const meta = value as Partial<PaidMeta> | null
  return meta && Number.isInteger(meta.total_fee) && typeof meta.transaction_id === 'string'
    ? { total_fee: meta.total_fee as number, transaction_id: meta.transaction_id }
    : null
}

function refundedMeta(value: unknown): RefundedMeta | null {
  const meta = value as Partial<RefundedMeta> | null
  return meta &&
    typeof meta.out_trade_no === 'string' &&
    Number.isInteger(meta.refund_fee) &&
    typeof meta.refund_status === 'string' &&
    typeof meta.refund_id === 'string'
    ? (meta as RefundedMeta)
    : null
}
