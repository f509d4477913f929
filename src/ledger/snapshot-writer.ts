/**
 * @module
 * Writes the order's KV snapshot and index keys (snapshot.ts says which) in the background, one
 * writer at a time per instance. KV takes one write a second per key, so changes in between are
 * coalesced and left to the alarm (`tasks.snapshot`); a failed write backs off (1 s, 2 s, 4 s, …
 * up to 5 min) rather than retrying every second. The index keys about to be written are stored
 * in `tasks.indexed` before KV is touched, so a crash between the KV writes and storing the tasks
 * cannot leave a key no later write knows to delete.
 */
import { errorName, log } from '../log'
import type { OrderRecord } from './record'
import { indexKeys, syncIndexes, writeSnapshot } from './snapshot'
import type { Tasks } from './tasks'

const SNAPSHOT_INTERVAL_MS = 1000
// The background write lands well within this; the alarm writes the snapshot otherwise.
const SNAPSHOT_GRACE_MS = 2000
const MAX_BACKOFF_MS = 5 * 60_000

/** The part of the store a writer reads and schedules in. */
export type Snapshotted = {
  readonly record: OrderRecord | null | undefined
  readonly tasks: Tasks
  persist(): Promise<void>
}

export class SnapshotWriter {
  private writtenAt = 0
  private writtenVersion = 0
  private version = 0
  /** The writer in flight, if any. */
  writing: Promise<void> | undefined

  constructor(
    private readonly kv: KVNamespace,
    private readonly store: Snapshotted,
  ) {}

  /** The record changed: a snapshot is due, stored with the change (the caller persists the tasks). */
  changed(): void {
    this.version += 1
    this.store.tasks.snapshot ??= Math.max(Date.now() + SNAPSHOT_GRACE_MS, this.writtenAt + SNAPSHOT_INTERVAL_MS)
  }

  /** A snapshot an earlier instance stored but did not get to write is still to be written. */
  loaded(): void {
    if (this.store.tasks.snapshot !== undefined) this.version += 1
  }

  /**
   * Writes the snapshot of the latest record, and its index keys. A change within a second of the
   * last write is left to the alarm, set for when it may be written (`fromAlarm` writes at once:
   * the alarm fires no earlier).
   */
  flush({ fromAlarm = false } = {}): Promise<void> {
    this.writing ??= this.write(fromAlarm).finally(() => {
      this.writing = undefined
    })
    return this.writing
  }

  private async write(fromAlarm: boolean): Promise<void> {
    const { store } = this
    let now = fromAlarm
    while (store.record && this.writtenVersion !== this.version) {
      // After a failed write, the backoff holds for changes too; only the alarm writes before it ends.
      const backingOff = store.tasks.snapshotFailures ? (store.tasks.snapshot ?? 0) : 0
      const due = Math.max(this.writtenAt + SNAPSHOT_INTERVAL_MS, backingOff)
      if (!now && Date.now() < due) {
        store.tasks.snapshot = due
        await store.persist()
        return
      }
      now = false
      const record = store.record
      const version = this.version
      this.writtenAt = Date.now()
      try {
        const written = store.tasks.indexed ?? []
        const adding = indexKeys(record).filter((key) => !written.includes(key))
        if (adding.length > 0) {
          // Write-ahead: known before KV has them, so a later write can always delete them.
          store.tasks.indexed = [...written, ...adding]
          await store.persist()
        }
        await writeSnapshot(this.kv, record)
        store.tasks.indexed = await syncIndexes(this.kv, record, written)
        this.writtenVersion = version
        delete store.tasks.snapshotFailures
      } catch (err) {
        const failures = (store.tasks.snapshotFailures ?? 0) + 1
        log('warn', {
          event: 'snapshot_write_failed',
          out_trade_no: record.out_trade_no,
          failures,
          error: errorName(err),
        })
        store.tasks.snapshotFailures = failures
        store.tasks.snapshot = this.writtenAt + backoff(failures)
        await store.persist()
        return
      }
    }
    delete store.tasks.snapshot
    await store.persist()
  }
}

/** The wait after `failures` failed writes in a row: 1 s, 2 s, 4 s, … up to 5 min. */
export function backoff(failures: number): number {
  return Math.min(SNAPSHOT_INTERVAL_MS * 2 ** Math.min(failures - 1, 20), MAX_BACKOFF_MS)
}
