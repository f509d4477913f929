/**
 * @module
 * OrderLedger: one Durable Object per order (`idFromName(out_trade_no)`), the only place an
 * order's state changes. Every transition is decided here on the stored state, one call at a time.
 * While a call awaits WeChat or the shop, other calls are let in, so work in flight is explicit
 * state: `placing` (one unifiedorder shared by identical placements) and `relaying` (one relay at
 * a time). After each change the record's snapshot goes to KV, at most once a second.
 */
import { DurableObject } from 'cloudflare:workers'
import { type Config, loadConfig } from '../config'
import { type Failure, fail, PayError } from '../errors'
import { type RelayResult, relay } from '../relay'
import { createClient } from '../wechat/client'
import { amount } from '../wechat/order'
import { paymentOf } from '../wechat/payment'
import type { Fields } from '../wechat/xml'
import type { Payment } from './record'
import {
  adopt,
  isPaid,
  isSettled,
  merge,
  type OrderRecord,
  OrderRecordV1,
  type OrderUpdate,
  tradeState,
} from './record'
import { keys, writeSnapshot } from './snapshot'
import { dueTimes, nextAlarm, type Schedules, type Tasks } from './tasks'

/** An RPC answer: errors do not keep their type across RPC, so failures travel as data. */
export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure }

/** A placement as the route prepared it: the unifiedorder fields and what the record keeps. */
export type PlaceRequest = {
  out_trade_no: string
  /** Sent to /pay/unifiedorder as they are (the client adds appid, mch_id, nonce_str, sign). */
  fields: Record<string, string>
  /** The order's fingerprint first; then any older form a record from before may carry. */
  fingerprints: string[]
  record: Pick<OrderRecord, 'trade_type' | 'body' | 'total_fee' | 'openid' | 'attach' | 'notify_url'>
  /** How long the prepay_id WeChat returns stays usable (ms). */
  validityMs: number
}

/** Why a payment was not taken; each is logged, and WeChat is told to retry (FAIL). */
export type PaymentRefusal = 'unknown_order' | 'amount_mismatch' | 'transaction_mismatch' | 'relay_failed'

export type PaymentOutcome =
  | { ok: true; duplicate: boolean; status?: number }
  | { ok: false; reason: PaymentRefusal; message: string; detail?: Record<string, string | number> }

// A prepay_id is reused while it has more than this left.
const REUSE_MARGIN_MS = 60_000
const SNAPSHOT_INTERVAL_MS = 1000

export class OrderLedger extends DurableObject<Env> {
  private record: OrderRecord | null | undefined
  private tasks: Tasks = {}
  private placing: { fingerprint: string; done: Promise<Result<OrderRecord>> } | undefined
  private relaying: Promise<PaymentOutcome> | undefined
  private snapshotAt = 0
  private snapshotVersion = 0
  private version = 0

  // ---- RPC -------------------------------------------------------------------------------------

  /** The record, or `null` when this service has none for the order. */
  async get(outTradeNo: string): Promise<OrderRecord | null> {
    return this.load(outTradeNo)
  }

  /**
   * Places the order with WeChat once. Identical placements share one unifiedorder call; another
   * fingerprint is OUT_TRADE_NO_USED without reaching WeChat; a paid or closed order is refused.
   */
  async place(request: PlaceRequest): Promise<Result<OrderRecord>> {
    const existing = await this.load(request.out_trade_no)
    const no = request.out_trade_no
    if (this.placing) {
      if (request.fingerprints.includes(this.placing.fingerprint)) return this.placing.done
      return wechat('OUT_TRADE_NO_USED', `out_trade_no ${no} was already used with other parameters`)
    }
    if (existing) {
      if (!request.fingerprints.includes(existing.fingerprint))
        return wechat('OUT_TRADE_NO_USED', `out_trade_no ${no} was already used with other parameters`)
      if (isPaid(existing.trade_state)) return wechat('ORDERPAID', `order ${no} is already paid`)
      if (isSettled(existing.trade_state))
        return wechat('ORDERCLOSED', `order ${no} is closed: place a new order with a new out_trade_no`)
      if (existing.prepay_id && Date.parse(existing.prepay_expires_at ?? '') - Date.now() > REUSE_MARGIN_MS)
        return { ok: true, value: existing }
    }
    const fingerprint = existing?.fingerprint ?? (request.fingerprints[0] as string)
    const done = this.unifiedOrder(request, fingerprint)
    this.placing = { fingerprint, done }
    try {
      return await done
    } finally {
      this.placing = undefined
    }
  }

  /**
   * What a verified orderquery reply says about the order: a payment is recorded and relayed
   * (in the background) exactly as a notified one; any other state moves the record forward.
   * `null` when this service has no record of the order.
   */
  async learnQuery(outTradeNo: string, reply: Fields): Promise<Result<OrderRecord | null>> {
    const record = await this.load(outTradeNo)
    if (!record) return { ok: true, value: null }
    const learned = await this.learn(record, reply, 'orderquery')
    if (!learned.ok) return learned
    // A payment found by a query reaches the shop like a notified one, without holding up the query.
    if (this.record?.payment && !this.record.relayed_at) this.ctx.waitUntil(this.deliverPayment())
    return { ok: true, value: this.record ?? null }
  }

  /** WeChat closed the order (closeorder SUCCESS). A payment recorded meanwhile outranks it. */
  async learnClosed(outTradeNo: string): Promise<OrderRecord | null> {
    const record = await this.load(outTradeNo)
    if (!record) return null
    await this.update({ trade_state: 'CLOSED' })
    return this.record ?? null
  }

  /**
   * A verified payment notification: reconcile, record, relay once. Resolves when the shop has the
   * payment (or already had it); a notification arriving while a relay is in flight waits for it.
   */
  async notifyPayment(payment: Payment): Promise<PaymentOutcome> {
    await this.load(payment.out_trade_no)
    const accepted = await this.acceptPayment(payment, 'notification')
    if (!accepted.ok) return accepted
    return this.deliverPayment()
  }

  /**
   * Relays the payment again now, even if the shop had it (a shop that lost its data). Joins a
   * relay already in flight rather than start a second one.
   */
  async redeliver(outTradeNo: string): Promise<Result<RelayResult>> {
    const record = await this.load(outTradeNo)
    if (!record) return { ok: false, failure: { kind: 'noRecord', message: `no record of order ${outTradeNo}` } }
    if (!record.payment)
      return { ok: false, failure: { kind: 'notPaid', message: `order ${outTradeNo} is not paid: nothing to relay` } }
    this.relaying ??= this.relayOnce().finally(() => {
      this.relaying = undefined
    })
    const outcome = await this.relaying
    log('info', { event: 'redelivery', out_trade_no: outTradeNo, delivered: outcome.ok })
    return {
      ok: true,
      value: outcome.ok
        ? { delivered: true, status: outcome.status ?? 200 }
        : { delivered: false, reason: String(outcome.detail?.error ?? outcome.message) },
    }
  }

  /** Runs every task due (the earliest one even if the clock says it is a little early). */
  override async alarm(): Promise<void> {
    const stored = await this.ctx.storage.get<OrderRecord>('record')
    if (!stored) return
    await this.load(stored.out_trade_no)
    const config = this.config()
    const due = dueTimes(this.tasks, schedules(config))
    const horizon = Math.max(Date.now(), due[0]?.at ?? 0)
    for (const { due: task, at } of due) {
      if (at > horizon) break
      try {
        if (task.task === 'snapshot') await this.flushSnapshot()
        else if (task.task === 'relay') await this.retryRelay(config)
        else if (task.task === 'check') await this.selfCheck(config)
      } catch (err) {
        log('error', {
          event: 'ledger_task_failed',
          out_trade_no: stored.out_trade_no,
          task: task.task,
          error: name(err),
        })
      }
    }
    await this.persist()
  }

  // ---- placing ---------------------------------------------------------------------------------

  private async unifiedOrder(request: PlaceRequest, fingerprint: string): Promise<Result<OrderRecord>> {
    let reply: Fields
    try {
      reply = await createClient({ config: this.config() }).call('/pay/unifiedorder', request.fields)
    } catch (err) {
      return failure(err)
    }
    if (!reply.prepay_id)
      return { ok: false, failure: { kind: 'upstream', message: 'the unifiedorder reply has no prepay_id' } }
    const now = new Date()
    const placed = {
      prepay_id: reply.prepay_id,
      prepay_expires_at: new Date(now.getTime() + request.validityMs).toISOString(),
      code_url: reply.code_url,
      mweb_url: reply.mweb_url,
    }
    const current = this.record
    if (current) {
      // A re-placement after the prepay_id expired: only the prepay changes.
      this.record = { ...current, ...placed, updated_at: now.toISOString() }
    } else {
      this.record = {
        v: 2,
        out_trade_no: request.out_trade_no,
        ...request.record,
        fingerprint,
        trade_state: 'NOTPAY',
        ...placed,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      }
      this.tasks.check = { since: now.getTime(), k: 0 }
    }
    await this.changed()
    return { ok: true, value: this.record }
  }

  // ---- learning --------------------------------------------------------------------------------

  private async learn(record: OrderRecord, reply: Fields, source: string): Promise<Result<void>> {
    const no = record.out_trade_no
    const total = amount(reply.total_fee)
    // An unpaid order may be reported without total_fee; one that carries it must match the record.
    if (total !== undefined && total !== record.total_fee) {
      log('error', { event: 'amount_mismatch', source, out_trade_no: no, reported: total, recorded: record.total_fee })
      return {
        ok: false,
        failure: {
          kind: 'upstream',
          message: `WeChat reports total_fee ${total} for ${no}, the order was placed for ${record.total_fee}`,
        },
      }
    }
    const state = tradeState(reply.trade_state)
    if (state === 'SUCCESS' || state === 'REFUND') {
      const found = paymentOf({ ...reply, trade_state: 'SUCCESS' })
      if (!found.ok) return { ok: false, failure: { kind: 'upstream', message: `${source}: ${found.reason}` } }
      const accepted = await this.acceptPayment(found.payment, source)
      if (!accepted.ok) return { ok: false, failure: { kind: 'upstream', message: accepted.message } }
      if (state === 'REFUND') await this.update({ trade_state: 'REFUND' })
      return { ok: true, value: undefined }
    }
    if (state) await this.update({ trade_state: state })
    return { ok: true, value: undefined }
  }

  /** Reconciles a verified payment with the record and records it; the first transaction_id is the only one. */
  private async acceptPayment(payment: Payment, source: string): Promise<PaymentOutcome> {
    const record = this.record
    const no = payment.out_trade_no
    if (!record) return { ok: false, reason: 'unknown_order', message: 'order unknown', detail: { out_trade_no: no } }
    if (payment.total_fee !== record.total_fee) {
      return {
        ok: false,
        reason: 'amount_mismatch',
        message: 'total_fee does not match the order',
        detail: { out_trade_no: no, source, notified: payment.total_fee, recorded: record.total_fee },
      }
    }
    if (record.transaction_id && record.transaction_id !== payment.transaction_id) {
      return {
        ok: false,
        reason: 'transaction_mismatch',
        message: 'transaction_id does not match the order',
        detail: { out_trade_no: no, source },
      }
    }
    const first = record.payment === undefined
    await this.update({
      trade_state: 'SUCCESS',
      transaction_id: payment.transaction_id,
      time_end: payment.time_end,
      cash_fee: payment.cash_fee,
      bank_type: payment.bank_type,
      openid: payment.openid || undefined,
      payment,
    })
    if (first) {
      log('info', { event: 'payment_recorded', out_trade_no: no, source, transaction_id: payment.transaction_id })
      // Until the shop has it, a relay retry is always scheduled: nothing is left to memory alone.
      if (!this.record?.relayed_at) this.tasks.relay ??= { since: Date.now(), k: 0 }
      delete this.tasks.check
      await this.persist()
    }
    return { ok: true, duplicate: !first }
  }

  // ---- relaying --------------------------------------------------------------------------------

  /** Relays the recorded payment unless the shop has it; never two relays in flight. */
  private deliverPayment(): Promise<PaymentOutcome> {
    if (this.record?.relayed_at) return Promise.resolve({ ok: true, duplicate: true })
    this.relaying ??= this.relayOnce().finally(() => {
      this.relaying = undefined
    })
    return this.relaying
  }

  private async relayOnce(): Promise<PaymentOutcome> {
    const record = this.record
    if (!record?.payment) return { ok: false, reason: 'unknown_order', message: 'no payment to relay' }
    const config = this.config()
    const result = await relay(
      record.notify_url,
      { type: 'payment', data: record.payment },
      { secrets: config.notifySecrets, timeoutMs: config.relayTimeoutMs },
    )
    const current = this.record as OrderRecord
    const now = new Date().toISOString()
    if (result.delivered) {
      this.record = { ...current, relayed_at: current.relayed_at ?? now, updated_at: now }
      delete this.tasks.relay
      await this.changed()
      return { ok: true, duplicate: false, status: result.status }
    }
    this.record = {
      ...current,
      relay_failures: (current.relay_failures ?? 0) + 1,
      relay_error: result.reason,
      updated_at: now,
    }
    this.tasks.relay ??= { since: Date.now(), k: 0 }
    await this.changed()
    return {
      ok: false,
      reason: 'relay_failed',
      message: 'merchant backend unavailable',
      detail: { out_trade_no: current.out_trade_no, error: result.reason },
    }
  }

  private async retryRelay(config: Config): Promise<void> {
    const task = this.tasks.relay
    if (!task) return
    const outcome = await this.deliverPayment()
    const no = this.record?.out_trade_no
    log('info', { event: 'relay_retry', out_trade_no: no, attempt: task.k + 1, delivered: outcome.ok })
    if (outcome.ok || !this.tasks.relay) return
    this.tasks.relay = { ...task, k: task.k + 1 }
    if (this.tasks.relay.k >= config.relayRetrySchedule.length) {
      delete this.tasks.relay
      const now = new Date().toISOString()
      this.record = { ...(this.record as OrderRecord), relay_failed_at: now, updated_at: now }
      log('error', {
        event: 'relay_schedule_spent',
        out_trade_no: no,
        attempts: this.record.relay_failures,
        error: this.record.relay_error,
      })
      await this.changed()
    }
  }

  // ---- self-checks -----------------------------------------------------------------------------

  private async selfCheck(config: Config): Promise<void> {
    const task = this.tasks.check
    const record = this.record
    if (!task || !record) return
    if (isSettled(record.trade_state)) {
      delete this.tasks.check
      return
    }
    const no = record.out_trade_no
    let found = 'error'
    try {
      const reply = await createClient({ config }).call('/pay/orderquery', { out_trade_no: no })
      found = reply.trade_state ?? 'no trade_state'
      const learned = await this.learn(record, reply, 'self_check')
      if (!learned.ok) found = `refused: ${learned.failure.message}`
      else if (this.record?.payment && !this.record.relayed_at) {
        const relayed = await this.deliverPayment()
        found += relayed.ok ? ', relayed' : ', relay failed (retry scheduled)'
      }
    } catch (err) {
      found = err instanceof PayError ? `${err.failure.kind}: ${err.message}` : name(err)
    }
    const settled = this.record ? isSettled(this.record.trade_state) : true
    const next = { ...task, k: task.k + 1 }
    if (settled || next.k >= config.recoverySchedule.length) delete this.tasks.check
    else this.tasks.check = next
    log('info', { event: 'self_check', out_trade_no: no, check: task.k + 1, found, settled })
  }

  // ---- storage ---------------------------------------------------------------------------------

  /** Loads the record once per instance; on first use, adopts a v1 record from KV (earlier deployments). */
  private async load(outTradeNo: string): Promise<OrderRecord | null> {
    if (this.record !== undefined) return this.record
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.record !== undefined) return
      const [record, tasks] = await Promise.all([
        this.ctx.storage.get<OrderRecord>('record'),
        this.ctx.storage.get<Tasks>('tasks'),
      ])
      this.tasks = tasks ?? {}
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
        if (this.record.payment && !this.record.relayed_at) this.tasks.relay = { since: Date.now(), k: 0 }
        log('info', { event: 'record_adopted', out_trade_no: outTradeNo, trade_state: this.record.trade_state })
        await this.changed()
      } else {
        this.record = null
      }
    })
    if (this.record === undefined) throw fail('internal', `the KV record of order ${outTradeNo} is not a v1 record`)
    return this.record
  }

  private async update(update: OrderUpdate): Promise<void> {
    if (!this.record) return
    const next = merge(this.record, update, new Date().toISOString())
    if (!next) return
    this.record = next
    await this.changed()
  }

  /** Stores the record and tasks, then writes the snapshot now or schedules it (1 write/s/key). */
  private async changed(): Promise<void> {
    this.version += 1
    const wait = this.snapshotAt + SNAPSHOT_INTERVAL_MS - Date.now()
    if (wait > 0) {
      this.tasks.snapshot ??= Date.now() + wait
      await this.persist()
      return
    }
    await this.persist()
    await this.flushSnapshot()
  }

  private async flushSnapshot(): Promise<void> {
    delete this.tasks.snapshot
    const record = this.record
    if (!record || this.snapshotVersion === this.version) return
    const version = this.version
    this.snapshotAt = Date.now()
    try {
      await writeSnapshot(this.env.ORDERS, record)
      this.snapshotVersion = Math.max(this.snapshotVersion, version)
    } catch (err) {
      log('warn', { event: 'snapshot_write_failed', out_trade_no: record.out_trade_no, error: name(err) })
    }
    // Changed while the write was in flight, or the write failed: once more, a second later.
    if (this.snapshotVersion !== this.version) {
      this.tasks.snapshot = this.snapshotAt + SNAPSHOT_INTERVAL_MS
      await this.persist()
    }
  }

  private async persist(): Promise<void> {
    const storage = this.ctx.storage
    if (this.record) await storage.put({ record: this.record, tasks: this.tasks })
    const at = nextAlarm(this.tasks, schedules(this.config()))
    if (at === null) await storage.deleteAlarm()
    else if ((await storage.getAlarm()) !== at) await storage.setAlarm(at)
  }

  private config(): Config {
    return loadConfig(this.env)
  }
}

function schedules(config: Config): Schedules {
  return { relay: config.relayRetrySchedule, check: config.recoverySchedule, refund: config.refundCheckSchedule }
}

function wechat(errCode: string, message: string): Result<never> {
  return { ok: false, failure: { kind: 'wechat', errCode, message } }
}

function failure(err: unknown): Result<never> {
  if (err instanceof PayError) return { ok: false, failure: err.failure }
  throw err
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function name(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown'
}

function log(level: 'info' | 'warn' | 'error', entry: Record<string, unknown>): void {
  console[level](JSON.stringify(entry))
}
