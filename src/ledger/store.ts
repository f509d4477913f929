/**
 * @module
 * The ledger's state: the record and its tasks, loaded once per instance (on first use with empty
 * storage, restoring an archived record or adopting a v1 record from KV, see README "Storage") and
 * stored under `record` and `tasks` after every change. Every change to the record goes through
 * {@link Store.apply}, which runs the one transition function (transition.ts). The KV snapshot ({@link SnapshotWriter}) and the alarm
 * ({@link Alarm}) follow each stored change. Every part of the ledger shares one Store per instance.
 */
import { errorName, log } from '../log'
import { Alarm } from './alarm'
import { adopt, isSettled, type OrderRecord, type Refund } from './record'
import { readKvRecord, retentionAt } from './retention'
import type { Result } from './rpc'
import { indexKeys } from './snapshot'
import { SnapshotWriter } from './snapshot-writer'
import { nextAlarm, PAYMENT, scheduleRelay, schedules, type Tasks } from './tasks'
import { type Fact, type Transition, transition } from './transition'
import type { Upstream } from './upstream'

export class Store {
  /** `undefined` until loaded, after loading when the KV record does not parse, and once archived. */
  private current: OrderRecord | null | undefined
  tasks: Tasks = {}
  /** The record was restored from its archive and is not in storage until it changes. */
  private archived = false
  /** Storage holds the record as it is here: a change of the tasks alone stores only the tasks. */
  private recordStored = false
  readonly snapshots: SnapshotWriter
  private readonly alarm: Alarm

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly upstream: Upstream,
  ) {
    this.snapshots = new SnapshotWriter(env.ORDERS, this)
    this.alarm = new Alarm(ctx.storage)
  }

  /** The record as loaded and changed here (read-only: changes go through {@link apply}). */
  get record(): OrderRecord | null | undefined {
    return this.current
  }

  /**
   * The record, loaded once per instance, or the failure that stops every call: a v1 record that
   * does not parse.
   */
  async open(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    const record = await this.load(outTradeNo)
    if (this.current === undefined) {
      return {
        ok: false,
        failure: { kind: 'internal', message: `the KV record of order ${outTradeNo} is not a v1 record` },
      }
    }
    return { ok: true, value: record }
  }

  /**
   * Loads the record once per instance; with empty storage, restores an archived record from KV
   * (held here, stored again once it changes) or adopts a v1 record (earlier deployments).
   */
  async load(outTradeNo: string): Promise<OrderRecord | null> {
    if (this.current !== undefined) return this.current
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.current !== undefined) return
      // One storage call for both keys.
      const stored = await this.ctx.storage.get<unknown>(['record', 'tasks'])
      const record = stored.get('record') as OrderRecord | undefined
      const tasks = stored.get('tasks') as Tasks | undefined
      this.tasks = tasks ?? {}
      this.snapshots.loaded()
      if (record) {
        this.current = record
        this.recordStored = true
        return
      }
      // Empty storage has no alarm (erase() deletes it first): the first change needs no getAlarm().
      if (!tasks) this.alarm.known(null)
      const found = await readKvRecord(this.env.ORDERS, outTradeNo)
      if (found.kind === 'unreadable') {
        // Never guessed at: the order stays unusable until an operator looks (README "Storage").
        log('error', { event: 'record_unreadable', out_trade_no: outTradeNo })
        return
      }
      this.current = null
      if (found.kind === 'archived') {
        // Archived only with its snapshot and index keys written: they are the record's own.
        this.current = found.record
        this.tasks = { indexed: indexKeys(found.record) }
        this.archived = true
        log('info', { event: 'record_restored', out_trade_no: outTradeNo, trade_state: found.record.trade_state })
      } else if (found.kind === 'v1') {
        const adopted = adopt(found.record, new Date().toISOString())
        await this.apply({ kind: 'placed', record: adopted }, (tasks) => {
          if (!isSettled(adopted.trade_state))
            tasks.check = { since: Date.parse(adopted.created_at) || Date.now(), k: 0 }
          if (adopted.payment && !adopted.relayed_at) scheduleRelay(tasks, PAYMENT)
        })
        log('info', { event: 'record_adopted', out_trade_no: outTradeNo, trade_state: adopted.trade_state })
      }
    })
    return this.current ?? null
  }

  /** The stored record, read without loading it (the alarm learns its out_trade_no from it). */
  stored(): Promise<OrderRecord | undefined> {
    return this.ctx.storage.get<OrderRecord>('record')
  }

  /**
   * Applies one fact to the record through the transition function and stores the result with
   * the tasks; `schedule` changes the tasks only when the fact changed the record, stored with it.
   * Nothing is stored when nothing changes or the fact is refused.
   */
  async apply(fact: Fact, schedule?: (tasks: Tasks) => void): Promise<Transition> {
    if (this.current === undefined) return { ok: false, refusal: 'no_record', message: 'the record is not loaded' }
    const result = transition(this.current, fact, new Date().toISOString())
    if (!result.ok || !result.changed) return result
    this.current = result.record
    this.archived = false
    this.recordStored = false
    schedule?.(this.tasks)
    // Every change starts the retention period again (a refund, a relay, a late payment).
    this.tasks.retention = retentionAt(result.record, this.upstream.config())
    await this.changed()
    return result
  }

  /**
   * Stores the record and tasks (no other call gets in meanwhile), then has the KV snapshot written
   * in the background: callers — WeChat waiting for its ack among them — never wait on KV. A
   * snapshot task is stored with the change, so if this instance stops before writing it, the
   * alarm writes it.
   */
  private async changed(): Promise<void> {
    this.snapshots.changed()
    await this.persist()
    this.ctx.waitUntil(
      this.snapshots.flush().catch((err: unknown) => {
        log('error', { event: 'snapshot_writer_failed', error: errorName(err) })
      }),
    )
  }

  /**
   * Stores the record and tasks and sets the alarm to the earliest task (or deletes it). A record
   * stored before retention existed gets its retention here.
   */
  async persist(): Promise<void> {
    if (this.archived) return
    const config = this.upstream.config()
    if (this.current) {
      this.tasks.retention ??= retentionAt(this.current, config)
      if (this.recordStored) await this.ctx.storage.put('tasks', this.tasks)
      else {
        // Set before the await: put() takes the record as it is now, and a change meanwhile clears it.
        this.recordStored = true
        try {
          await this.ctx.storage.put({ record: this.current, tasks: this.tasks })
        } catch (err) {
          this.recordStored = false
          throw err
        }
      }
    }
    await this.alarm.set(nextAlarm(this.tasks, schedules(config)))
  }

  /** Something happened to the order without changing it (a redelivery): its archiving waits again. */
  async touch(): Promise<void> {
    if (!this.current || this.archived) return
    this.tasks.retention = retentionAt(this.current, this.upstream.config())
    await this.persist()
  }

  /** Runs `work` with no other call let in (not even one awaiting WeChat); it must not throw. */
  exclusive(work: () => Promise<void>): Promise<void> {
    return this.ctx.blockConcurrencyWhile(work)
  }

  /**
   * Deletes the ledger's storage and alarm (retention.ts has archived the record in KV), and lets go
   * of the record: the next call restores it from the archive, like an instance started afresh. A
   * call still in flight finds no record loaded, and its fact is refused rather than stored.
   */
  async erase(): Promise<void> {
    await this.alarm.set(null)
    await this.ctx.storage.deleteAll()
    this.current = undefined
    this.recordStored = false
    this.tasks = {}
  }

  /** The alarm fired: it is no longer set. */
  alarmFired(): void {
    this.alarm.fired()
  }

  refund(outRefundNo: string): Refund | undefined {
    return this.current?.refunds?.find((refund) => refund.out_refund_no === outRefundNo)
  }
}
