/**
 * @module
 * Every key the service keeps in the ORDERS KV namespace, in one place, and the snapshot writes.
 * KV is read everywhere and decides nothing: each order's ledger (the Durable Object) is its only
 * writer, at most once a second per key (KV's limit), and nothing reads a snapshot to decide.
 *
 * | key                           | value                                   | metadata                                  |
 * |-------------------------------|-----------------------------------------|-------------------------------------------|
 * | `order:<out_trade_no>`        | the order record (JSON, schema v2)      | {@link SnapshotMeta}: state, relayed, … |
 * | `paid:<yyyyMMdd>:<out_trade_no>` | `""` — the order was paid that Beijing day (time_end) | —                 |
 * | `relay-failed:<out_trade_no>` | `""` — a relay's retry schedule is spent, not delivered | —                 |
 * | `reconciliation:<yyyyMMdd>`   | the day's reconciliation report (JSON)  | —                                         |
 *
 * The two index keys let the reconciliation list a day's payments and the undelivered relays
 * with `list({ prefix })` instead of reading every order.
 */
import type { OrderRecord } from './record'
import { PAYMENT, refundKey } from './tasks'

export const keys = {
  order: (outTradeNo: string) => `order:${outTradeNo}`,
  orderPrefix: 'order:',
  paid: (day: string, outTradeNo: string) => `paid:${day}:${outTradeNo}`,
  paidPrefix: (day: string) => `paid:${day}:`,
  relayFailed: (outTradeNo: string) => `relay-failed:${outTradeNo}`,
  relayFailedPrefix: 'relay-failed:',
  reconciliation: (billDate: string) => `reconciliation:${billDate}`,
} as const

/** What `list({ prefix: 'order:' })` shows of each order without reading it (≤ 1 KB). */
export type SnapshotMeta = {
  trade_state: string
  total_fee: number
  /** The payment (if any) reached the shop. */
  relayed: boolean
  /** The relay retry schedule is spent and the shop has not got the payment. */
  relay_failed: boolean
  updated_at: string
  created_at: string
}

export function metaOf(record: OrderRecord): SnapshotMeta {
  return {
    trade_state: record.trade_state,
    total_fee: record.total_fee,
    relayed: record.relayed_at !== undefined,
    relay_failed: relayFailed(record),
    updated_at: record.updated_at,
    created_at: record.created_at,
  }
}

/** The relays (`payment`, `refund:<out_refund_no>`) whose retry schedule is spent without a delivery. */
export function failedRelays(record: OrderRecord): string[] {
  const failed = (state: { relay_failed_at?: string; relayed_at?: string }) =>
    state.relay_failed_at !== undefined && state.relayed_at === undefined
  return [
    ...(failed(record) ? [PAYMENT] : []),
    ...(record.refunds ?? []).filter(failed).map((refund) => refundKey(refund.out_refund_no)),
  ]
}

/** Some relay of the order is spent without a delivery. */
export const relayFailed = (record: OrderRecord): boolean => failedRelays(record).length > 0

/** The index keys `record` belongs under now. */
export function indexKeys(record: OrderRecord): string[] {
  const out: string[] = []
  const day = record.payment?.time_end.slice(0, 8)
  if (day && /^\d{8}$/.test(day)) out.push(keys.paid(day, record.out_trade_no))
  if (relayFailed(record)) out.push(keys.relayFailed(record.out_trade_no))
  return out
}

/** Puts the index keys `record` needs and deletes those it left; returns the keys it is under now. */
export async function syncIndexes(kv: KVNamespace, record: OrderRecord, written: readonly string[]): Promise<string[]> {
  const wanted = indexKeys(record)
  await Promise.all([
    ...wanted.filter((key) => !written.includes(key)).map((key) => kv.put(key, '')),
    ...written.filter((key) => !wanted.includes(key)).map((key) => kv.delete(key)),
  ])
  return wanted
}

/** Writes the snapshot of `record`; the caller keeps to one write a second per key. */
export async function writeSnapshot(kv: KVNamespace, record: OrderRecord): Promise<void> {
  await kv.put(keys.order(record.out_trade_no), JSON.stringify(record), { metadata: metaOf(record) })
}
