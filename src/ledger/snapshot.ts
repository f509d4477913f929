/**
 * @module
 * Every key the service keeps in the ORDERS KV namespace, in one place, and the snapshot writes.
 * KV is read everywhere and decides nothing: each order's ledger (the Durable Object) is its only
 * writer, at most once a second per key (KV's limit), and nothing reads a snapshot to decide.
 *
 * | key                           | value                                   | metadata                                  |
 * |-------------------------------|-----------------------------------------|-------------------------------------------|
 * | `order:<out_trade_no>`        | the order record (JSON, schema v2)      | {@link SnapshotMeta}: state, relayed, … |
 * | `reconciliation:<yyyyMMdd>`   | the day's reconciliation report (JSON)  | —                                         |
 */
import type { OrderRecord } from './record'

export const keys = {
  order: (outTradeNo: string) => `order:${outTradeNo}`,
  orderPrefix: 'order:',
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
    relay_failed: record.relay_failed_at !== undefined && record.relayed_at === undefined,
    updated_at: record.updated_at,
    created_at: record.created_at,
  }
}

/** Writes the snapshot of `record`; the caller keeps to one write a second per key. */
export async function writeSnapshot(kv: KVNamespace, record: OrderRecord): Promise<void> {
  await kv.put(keys.order(record.out_trade_no), JSON.stringify(record), { metadata: metaOf(record) })
}
