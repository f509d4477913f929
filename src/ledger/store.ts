/**
 * @module
 * The ledger's state and its storage: the record and its tasks, loaded once per instance (adopting
 * a v1 record from KV on first use, see README "Storage"), stored under `record` and `tasks` after
 * every change, with the KV snapshot coalesced to one write a second and the alarm set to the
 * earliest task. Every part of the ledger shares one Store per Durable Object instance.
 */
import { type Config, loadConfig } from '../config'
import { type Client, createClient } from '../wechat/client'
import { log, name } from './log'
import { adopt, isSettled, merge, type OrderRecord, OrderRecordV1, type OrderUpdate, type Refund } from './record'
import type { Result } from './rpc'
import { keys, syncIndexes, writeSnapshot } from './snapshot'
import { nextAlarm, PAYMENT, scheduleRelay, schedules, type Tasks } from './tasks'

const SNAPSHOT_INTERVAL_MS = 1000
// The background write lands well within this; the alarm writes the snapshot otherwise.
const SNAPSHOT_GRACE_MS = 2000

export class Store {
  /** `undefined` until loaded, and after loading when the v1 record in KV does not parse. */
  record: OrderRecord | null | undefined
  tasks: Tasks = {}
  private snapshotAt = 0
  private snapshotVersion = 0
  private version = 0
  /** The snapshot writer in flight, if any. */
  private writing: Promise<void> | undefined
  /** The alarm time as last set here; `undefined` until read from storage. */
  private alarmAt: number | null | undefined

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  /**
   * The record, loaded once per instance, or the failure that stops every call: a v1 record that
   * does not parse.
   */
  async open(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    const record = await this.load(outTradeNo)
    if (this.record === undefined) {
      return {
        ok: false,
        failure: { kind: 'internal', message: `the KV record of order ${outTradeNo} is not a v1 record` },
      }
    }
    return { ok: true, value: record }
  }

  /** Loads the record once per instance; on first use, adopts a v1 record from KV (earlier deployments). */
  async load(outTradeNo: string): Promise<OrderRecord | null> {
    if (this.record !== undefined) return this.record
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.record !== undefined) return
      const [record, tasks] = await Promise.all([
        this.ctx.storage.get<OrderRecord>('record'),
        this.ctx.storage.get<Tasks>('tasks'),
      ])
      this.tasks = tasks ?? {}
      // A snapshot an earlier instance stored but did not get to write is still to be written.
      if (this.tasks.snapshot !== undefined) this.version += 1
      if (record) {
        this.record = record
        return
      }
      const text = await this.env.ORDERS.get(keys.order(outTradeNo))
      const v1 = text === null ? undefined : OrderRecordV1.safeParse(parseJson(text))
      if (v1 && !v1.success) {
        // Never guessed at: the order stays unusable until an operator looks (README "Storage").
        log('error', { event: 'record_unreadable', out_trade_no: outTradeNo })
        return
      }
      if (v1?.success) {
        this.record = adopt(v1.data, new Date().toISOString())
        if (!isSettled(this.record.trade_state))
          this.tasks.check = { since: Date.parse(this.record.created_at) || Date.now(), k: 0 }
        if (this.record.payment && !this.record.relayed_at) scheduleRelay(this.tasks, PAYMENT)
        log('info', { event: 'record_adopted', out_trade_no: outTradeNo, trade_state: this.record.trade_state })
        await this.changed()
      } else {
        this.record = null
      }
    })
    return this.record ?? null
  }

  /** The stored record, read without loading it (the alarm learns its out_trade_no from it). */
  stored(): Promise<OrderRecord | undefined> {
    return this.ctx.storage.get<OrderRecord>('record')
  }

  /** Moves the record forward (see `merge`) and stores it; nothing is stored when nothing changes. */
  async update(update: OrderUpdate): Promise<void> {
    if (!this.record) return
    const next = merge(this.record, update, new Date().toISOString())
    if (!next) return
    this.record = next
    await this.changed()
  }

  /**
   * Stores the record and tasks (no other call gets in meanwhile), then has the KV snapshot written
   * in the background: callers — WeChat waiting for its ack among them — never wait on KV. A
   * snapshot task is stored with the change, so if this instance stops before writing it, the
   * alarm writes it.
   */
  async changed(): Promise<void> {
    this.version += 1
    this.tasks.snapshot ??= Math.max(Date.now() + SNAPSHOT_GRACE_MS, this.snapshotAt + SNAPSHOT_INTERVAL_MS)
    await this.persist()
    this.ctx.waitUntil(this.flushSnapshot())
  }

  /**
   * Writes the snapshot of the latest record, and its index keys, one writer at a time per instance.
   * KV takes one write a second per key: a change within a second of the last write is left to the
   * alarm, set for when it may be written (`fromAlarm` writes at once: the alarm fires no earlier).
   */
  flushSnapshot({ fromAlarm = false } = {}): Promise<void> {
    this.writing ??= this.writeSnapshots(fromAlarm).finally(() => {
      this.writing = undefined
    })
    return this.writing
  }

  private async writeSnapshots(fromAlarm: boolean): Promise<void> {
    let now = fromAlarm
    while (this.record && this.snapshotVersion !== this.version) {
      const due = this.snapshotAt + SNAPSHOT_INTERVAL_MS
      if (!now && Date.now() < due) {
        this.tasks.snapshot = due
        await this.persist()
        return
      }
      now = false
      const record = this.record
      const version = this.version
      this.snapshotAt = Date.now()
      try {
        await writeSnapshot(this.env.ORDERS, record)
        this.tasks.indexed = await syncIndexes(this.env.ORDERS, record, this.tasks.indexed ?? [])
        this.snapshotVersion = version
      } catch (err) {
        log('warn', { event: 'snapshot_write_failed', out_trade_no: record.out_trade_no, error: name(err) })
        this.tasks.snapshot = this.snapshotAt + SNAPSHOT_INTERVAL_MS
        await this.persist()
        return
      }
    }
    delete this.tasks.snapshot
    await this.persist()
  }

  /** Stores the record and tasks and sets the alarm to the earliest task (or deletes it). */
  async persist(): Promise<void> {
    const storage = this.ctx.storage
    if (this.record) await storage.put({ record: this.record, tasks: this.tasks })
    const at = nextAlarm(this.tasks, schedules(this.config()))
    if (this.alarmAt === undefined) this.alarmAt = await storage.getAlarm()
    if (at === this.alarmAt) return
    if (at === null) await storage.deleteAlarm()
    else await storage.setAlarm(at)
    this.alarmAt = at
  }

  /** The alarm fired: it is no longer set. */
  alarmFired(): void {
    this.alarmAt = null
  }

  config(): Config {
    return loadConfig(this.env)
  }

  client(config = this.config()): Client {
    const cert = this.env.WXPAY_CERT
    return createClient({ config, ...(cert && { certFetch: (url, init) => cert.fetch(url, init) }) })
  }

  refund(outRefundNo: string): Refund | undefined {
    return this.record?.refunds?.find((refund) => refund.out_refund_no === outRefundNo)
  }

  /** Replaces one refund of the loaded record (in memory: the caller stores it). */
  replaceRefund(outRefundNo: string, change: (refund: Refund) => Refund): void {
    const record = this.record as OrderRecord
    const refunds = (record.refunds ?? []).map((r) => (r.out_refund_no === outRefundNo ? change(r) : r))
    this.record = { ...record, refunds, updated_at: new Date().toISOString() }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
