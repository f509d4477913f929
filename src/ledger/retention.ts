/**
 * @module
 * Retention: a ledger's storage is archived once its order can no longer change — a paid order
 * LEDGER_RETENTION_DAYS after its last change (past WeChat's one-year refund window), any other
 * UNPAID_RETENTION_DAYS after — and never while work is in flight: a refund not final, a relay
 * not delivered (pending or spent), a snapshot not written, a check still scheduled. Such work
 * postpones it by the same period.
 *
 * The archive is the order's own KV snapshot, `order:<out_trade_no>`, written once more with the
 * final record and `archived_at` in its metadata (no expiry); then the Durable Object's storage
 * and alarm are deleted. A later event for the order finds the storage empty and restores the
 * record from that snapshot (see {@link readKvRecord}), the way a v1 record is adopted: only a
 * snapshot marked archived that parses as the current schema, for the same order, is restored.
 */
import type * as z from 'zod/mini'
import type { Config } from '../config'
import { errorName, log } from '../log'
import { isFinalRefund, isPaid, OrderRecord, OrderRecordV1 } from './record'
import { keys, type SnapshotMeta, writeSnapshot } from './snapshot'
import type { Store } from './store'
import { dueTimes, type Schedules, schedules, type Tasks } from './tasks'

const DAY_MS = 86_400_000
// A failed archive write is tried again an hour later.
const RETRY_MS = 3600_000

/** When an order that changed (or was touched) at `now` is archived. */
export function retentionAt(record: OrderRecord, config: Config, now = Date.now()): number {
  const days = isPaid(record.trade_state) ? config.ledgerRetentionDays : config.unpaidRetentionDays
  return now + days * DAY_MS
}

/** The work still in flight for the order (what postpones its archiving), or `undefined`. */
export function workInFlight(record: OrderRecord, tasks: Tasks, schedules: Schedules): string | undefined {
  const other = dueTimes(tasks, schedules).find(({ due }) => due.task !== 'retention')
  if (other) return other.due.task
  if (tasks.snapshotFailures) return 'snapshot'
  const refunds = record.refunds ?? []
  if (refunds.some((refund) => !isFinalRefund(refund.refund_status))) return 'refund'
  // A relay spent without a delivery too: the shop has not got it, and an operator may redeliver.
  if (record.payment && !record.relayed_at) return 'relay'
  if (refunds.some((refund) => !refund.relayed_at)) return 'relay'
  return undefined
}

export class Retention {
  constructor(
    private readonly store: Store,
    private readonly kv: KVNamespace,
  ) {}

  /**
   * The alarm's retention task: archives the order, or postpones it while work is in flight. No
   * other call is let in from the check to the deletion, so nothing can start in between.
   */
  async run(config: Config): Promise<void> {
    const { store } = this
    await store.exclusive(async () => {
      const record = store.record
      if (!record) return
      const no = record.out_trade_no
      const work = store.snapshots.writing ? 'snapshot' : workInFlight(record, store.tasks, schedules(config))
      if (work) {
        store.tasks.retention = retentionAt(record, config)
        log('info', {
          event: 'retention_postponed',
          out_trade_no: no,
          work,
          until: new Date(store.tasks.retention).toISOString(),
        })
        return
      }
      try {
        // The final record first: the storage is deleted only once KV has it.
        await writeSnapshot(this.kv, record, new Date().toISOString())
      } catch (err) {
        store.tasks.retention = Date.now() + RETRY_MS
        log('warn', { event: 'archive_write_failed', out_trade_no: no, error: errorName(err) })
        return
      }
      await store.erase()
      log('info', { event: 'ledger_archived', out_trade_no: no, trade_state: record.trade_state })
    })
  }
}

/** What KV holds for an order whose ledger storage is empty. */
export type KvRecord =
  | { kind: 'none' }
  | { kind: 'archived'; record: OrderRecord }
  | { kind: 'v1'; record: z.infer<typeof OrderRecordV1> }
  /** Neither an archive nor a v1 record of this order: never guessed at (README "Storage"). */
  | { kind: 'unreadable' }

/** Reads `order:<out_trade_no>`: an archived record (v2) or a v1 record of earlier deployments. */
export async function readKvRecord(kv: KVNamespace, outTradeNo: string): Promise<KvRecord> {
  const { value, metadata } = await kv.getWithMetadata<Partial<SnapshotMeta>>(keys.order(outTradeNo), 'text')
  if (value === null) return { kind: 'none' }
  const json = parseJson(value)
  // A v2 snapshot not marked archived is a copy of storage that was lost, possibly stale: unreadable.
  if (metadata?.archived_at !== undefined) {
    const archived = OrderRecord.safeParse(json)
    if (archived.success && archived.data.out_trade_no === outTradeNo)
      return { kind: 'archived', record: archived.data }
    return { kind: 'unreadable' }
  }
  const v1 = OrderRecordV1.safeParse(json)
  if (v1.success && v1.data.out_trade_no === outTradeNo) return { kind: 'v1', record: v1.data }
  return { kind: 'unreadable' }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
