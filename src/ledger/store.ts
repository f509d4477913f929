/**
 * @module
 * The ledger's state: the record and its tasks, loaded once per instance (adopting a v1 record
 * from KV on first use, see README "Storage") and stored under `record` and `tasks` after every
 * change. Every change to the record goes through {@link Store.apply}, which runs the one
 * transition function (transition.ts). The KV snapshot ({@link SnapshotWriter}) and the alarm
 * ({@link Alarm}) follow each stored change. Every part of the ledger shares one Store per instance.
 */
import { errorName, log } from '../log'
import { Alarm } from './alarm'
import { adopt, isSettled, type OrderRecord, OrderRecordV1, type Refund } from './record'
import type { Result } from './rpc'
import { keys } from './snapshot'
import { SnapshotWriter } from './snapshot-writer'
import { nextAlarm, PAYMENT, scheduleRelay, schedules, type Tasks } from './tasks'
import { type Fact, type Transition, transition } from './transition'
import type { Upstream } from './upstream'

export class Store {
  /** `undefined` until loaded, and after loading when the v1 record in KV does not parse. */
  private current: OrderRecord | null | undefined
  tasks: Tasks = {}
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

  /** Loads the record once per instance; on first use, adopts a v1 record from KV (earlier deployments). */
  async load(outTradeNo: string): Promise<OrderRecord | null> {
    if (this.current !== undefined) return this.current
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.current !== undefined) return
      const [record, tasks] = await Promise.all([
        this.ctx.storage.get<OrderRecord>('record'),
        this.ctx.storage.get<Tasks>('tasks'),
      ])
      this.tasks = tasks ?? {}
      this.snapshots.loaded()
      if (record) {
        this.current = record
        return
      }
      const text = await this.env.ORDERS.get(keys.order(outTradeNo))
      const v1 = text === null ? undefined : OrderRecordV1.safeParse(parseJson(text))
      if (v1 && !v1.success) {
        // Never guessed at: the order stays unusable until an operator looks (README "Storage").
        log('error', { event: 'record_unreadable', out_trade_no: outTradeNo })
        return
      }
      this.current = null
      if (v1?.success) {
        const adopted = adopt(v1.data, new Date().toISOString())
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
    schedule?.(this.tasks)
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

  /** Stores the record and tasks and sets the alarm to the earliest task (or deletes it). */
  async persist(): Promise<void> {
    if (this.current) await this.ctx.storage.put({ record: this.current, tasks: this.tasks })
    await this.alarm.set(nextAlarm(this.tasks, schedules(this.upstream.config())))
  }

  /** The alarm fired: it is no longer set. */
  alarmFired(): void {
    this.alarm.fired()
  }

  refund(outRefundNo: string): Refund | undefined {
    return this.current?.refunds?.find((refund) => refund.out_refund_no === outRefundNo)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
