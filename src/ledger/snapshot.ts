/**
 * @module
 * Every key the service keeps in the ORDERS KV namespace, in one place, and the snapshot writes.
 * KV is read everywhere and decides nothing: each order's ledger (the Durable Object) is its only
 * writer, at most once a second per key (KV's limit), and nothing reads a snapshot to decide.
 *
 * | key                                        | value / list() metadata                                  |
 * |--------------------------------------------|----------------------------------------------------------|
 * | `order:<out_trade_no>`                     | the order record (JSON, schema v2) / {@link SnapshotMeta}; once `archived_at` is set, the order's archive (retention.ts) |
 * | `paid:<yyyyMMdd>:<out_trade_no>`           | `""` / {@link PaidMeta}: paid that Beijing day (time_end) |
 * | `refunded:<yyyyMMdd>:<out_refund_no>`      | `""` / {@link RefundedMeta}: a final refund WeChat accepted that day |
 * | `relay-failed:<yyyyMMdd>:<out_trade_no>`   | `""` / {@link RelayFailedMeta}: a relay's schedule was spent that day |
 * | `reconciliation:<yyyyMMdd>`                | the day's reconciliation report (JSON)                   |
 * | `reconciliation-run:<instance>:…`          | a run's work in progress (expires after 7 days)          |
 *
 * The index keys carry in their list() metadata what the reconciliation compares, so one
 * `list({ prefix })` page covers 1,000 orders and only the rows that differ reach a ledger. Keys
 * written by earlier versions (`paid:` without metadata, `relay-failed:<out_trade_no>`) are read
 * from the ledger instead (README "Storage").
 */
import { isFinalRefund, type OrderRecord } from './record'
import { PAYMENT, refundKey } from './tasks'

export const keys = {
  order: (outTradeNo: string) => `order:${outTradeNo}`,
  orderPrefix: 'order:',
  paid: (day: string, outTradeNo: string) => `paid:${day}:${outTradeNo}`,
  paidPrefix: (day: string) => `paid:${day}:`,
  refunded: (day: string, outRefundNo: string) => `refunded:${day}:${outRefundNo}`,
  refundedPrefix: (day: string) => `refunded:${day}:`,
  relayFailed: (day: string, outTradeNo: string) => `relay-failed:${day}:${outTradeNo}`,
  relayFailedPrefix: (day: string) => `relay-failed:${day}:`,
  reconciliation: (billDate: string) => `reconciliation:${billDate}`,
  run: (instance: string, part: string) => `reconciliation-run:${instance}:${part}`,
} as const

/** `paid:` metadata: what the bill's payment line is compared with. */
export type PaidMeta = { total_fee: number; transaction_id: string }
/** `refunded:` metadata: what the bill's refund line is compared with. */
export type RefundedMeta = {
  out_trade_no: string
  refund_fee: number
  refund_status: string
  refund_id: string
}
/** `relay-failed:` metadata: the relays whose schedule was spent that day (`payment`, `refund:<out_refund_no>`). */
export type RelayFailedMeta = { relays: string[] }

/** An index key and its list() metadata. */
export type IndexEntry = { key: string; metadata: PaidMeta | RefundedMeta | RelayFailedMeta }

/** The Beijing day (yyyyMMdd) of an ISO instant: WeChat's bill days are Beijing days. */
export function beijingDay(iso: string): string | undefined {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return undefined
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')
}

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
  /** Set when the ledger's storage was deleted and this snapshot is the order's archive (retention.ts). */
  archived_at?: string
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

/**
 * The index keys `record` belongs under now, with their metadata. Each key's metadata is final when
 * the key is first written (a payment's amount and transaction_id, a final refund), so a key is
 * written once and deleted when the order leaves it.
 */
export function indexEntries(record: OrderRecord): IndexEntry[] {
  const out: IndexEntry[] = []
  const payment = record.payment
  const day = payment?.time_end.slice(0, 8)
  if (payment && day && /^\d{8}$/.test(day)) {
    out.push({
      key: keys.paid(day, record.out_trade_no),
      metadata: { total_fee: record.total_fee, transaction_id: payment.transaction_id },
    })
  }
  for (const refund of record.refunds ?? []) {
    // Only a final refund is indexed: one still in progress on the bill's day is read from its
    // ledger, which asks WeChat. A refund is in the bill of the day WeChat accepted it, which is the
    // day it was asked but for a request that straddles midnight (also read from its ledger then).
    const refundDay = beijingDay(refund.requested_at)
    if (!isFinalRefund(refund.refund_status) || !refund.refund_id || !refundDay) continue
    out.push({
      key: keys.refunded(refundDay, refund.out_refund_no),
      metadata: {
        out_trade_no: record.out_trade_no,
        refund_fee: refund.refund_fee,
        refund_status: refund.refund_status,
        refund_id: refund.refund_id,
      },
    })
  }
  const failedOn = new Map<string, string[]>()
  const spent = (relay: string, state: { relay_failed_at?: string; relayed_at?: string }) => {
    const failedDay = state.relay_failed_at && state.relayed_at === undefined && beijingDay(state.relay_failed_at)
    if (failedDay) failedOn.set(failedDay, [...(failedOn.get(failedDay) ?? []), relay])
  }
  spent(PAYMENT, record)
  for (const refund of record.refunds ?? []) spent(refundKey(refund.out_refund_no), refund)
  // The relays as first written: the reconciliation reads the ledger for the current ones.
  for (const [failedDay, relays] of failedOn) {
    out.push({ key: keys.relayFailed(failedDay, record.out_trade_no), metadata: { relays } })
  }
  return out
}

/** The index keys `record` belongs under now. */
export const indexKeys = (record: OrderRecord): string[] => indexEntries(record).map((entry) => entry.key)

/** Puts the index keys `record` needs and deletes those it left; returns the keys it is under now. */
export async function syncIndexes(kv: KVNamespace, record: OrderRecord, written: readonly string[]): Promise<string[]> {
  const wanted = indexEntries(record)
  const keep = new Set(wanted.map((entry) => entry.key))
  await Promise.all([
    ...wanted
      .filter((entry) => !written.includes(entry.key))
      .map((entry) => kv.put(entry.key, '', { metadata: entry.metadata })),
    ...written.filter((key) => !keep.has(key)).map((key) => kv.delete(key)),
  ])
  return [...keep]
}

/**
 * Writes the snapshot of `record`, marked as its archive when `archivedAt` is given; the caller
 * keeps to one write a second per key.
 */
export async function writeSnapshot(kv: KVNamespace, record: OrderRecord, archivedAt?: string): Promise<void> {
  const metadata: SnapshotMeta = { ...metaOf(record), ...(archivedAt !== undefined && { archived_at: archivedAt }) }
  await kv.put(keys.order(record.out_trade_no), JSON.stringify(record), { metadata })
}
