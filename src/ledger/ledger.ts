/**
 * @module
 * OrderLedger: one Durable Object per order (`idFromName(out_trade_no)`), the only place an
 * order's state changes. Every transition is decided here on the stored state, one call at a time.
 * While a call awaits WeChat or the shop, other calls are let in, so work in flight is explicit
 * state, kept per instance by the parts below: `placing` (one unifiedorder shared by identical
 * placements), refunds stored as REQUESTING before WeChat is asked (their money is held), and
 * `relaying` (one relay at a time per payment or refund). After each change the record's snapshot
 * goes to KV in the background — no caller waits on KV — at most once a second.
 *
 * This class opens the record and hands each call to its part: {@link Store} (the record and its
 * tasks; every change goes through its one transition function), {@link Placement},
 * {@link Payments}, {@link RefundRequests}, {@link RefundChecks}, {@link RefundSelfChecks} and
 * {@link Relays}, which ask WeChat through {@link Upstream}; `alarm()` runs the tasks each part
 * scheduled, the last of them {@link Retention}'s, which archives the order and deletes the storage.
 */
import { DurableObject } from 'cloudflare:workers'
import { errorName, log } from '../log'
import type { RelayResult } from '../relay'
import type { Payment } from '../wechat/payment'
import type { RefundNotice } from '../wechat/refund'
import type { Fields } from '../wechat/xml'
import { Payments } from './payments'
import { Placement } from './placement'
import { isFinalRefund, type OrderRecord } from './record'
import { RefundChecks } from './refund-checks'
import { RefundRequests } from './refund-requests'
import { RefundSelfChecks } from './refund-self-check'
import { Relays } from './relays'
import { Retention } from './retention'
import type { Outcome, PlaceRequest, RefundAnswer, RefundRequest, Result } from './rpc'
import { Store } from './store'
import { dueTimes, PAYMENT, refundKey, schedules } from './tasks'
import { Upstream } from './upstream'

export type { Outcome, PlaceRequest, RefundAnswer, RefundRequest, Refusal, Result } from './rpc'

export class OrderLedger extends DurableObject<Env> {
  // One of each per instance: the in-flight state they hold is shared by every call to this order.
  private readonly upstream = new Upstream(this.env)
  private readonly store = new Store(this.ctx, this.env, this.upstream)
  private readonly relays = new Relays(this.store, this.upstream)
  private readonly placement = new Placement(this.store, this.upstream)
  private readonly payments = new Payments(this.store, this.upstream, this.relays)
  private readonly refundRequests = new RefundRequests(this.store, this.upstream)
  private readonly refundChecks = new RefundChecks(this.store, this.upstream, this.relays)
  private readonly refundSelfChecks = new RefundSelfChecks(
    this.store,
    this.upstream,
    this.relays,
    this.refundChecks,
    this.refundRequests,
  )
  private readonly retention = new Retention(this.store, this.env.ORDERS)

  // ---- RPC: reading ----------------------------------------------------------------------------

  /** The record, or `null` when this service has none for the order. */
  async get(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    return this.store.open(outTradeNo)
  }

  // ---- RPC: placing ----------------------------------------------------------------------------

  /**
   * Places the order with WeChat once. Identical placements share one unifiedorder call; another
   * fingerprint is OUT_TRADE_NO_USED without reaching WeChat; a paid or closed order is refused.
   */
  async place(request: PlaceRequest): Promise<Result<OrderRecord>> {
    const opened = await this.store.open(request.out_trade_no)
    if (!opened.ok) return opened
    return this.placement.place(opened.value, request)
  }

  // ---- RPC: learning ---------------------------------------------------------------------------

  /**
   * What a verified orderquery reply says about the order: a payment is recorded and relayed
   * (in the background) exactly as a notified one; any other state moves the record forward.
   * `null` when this service has no record of the order.
   */
  async learnQuery(outTradeNo: string, reply: Fields): Promise<Result<OrderRecord | null>> {
    const opened = await this.store.open(outTradeNo)
    if (!opened.ok || !opened.value) return opened
    const learned = await this.payments.learn(opened.value, reply, 'orderquery')
    if (!learned.ok) return learned
    const record = this.store.record
    // A payment found by a query reaches the shop like a notified one, without holding up the query.
    if (record?.payment && !record.relayed_at) this.ctx.waitUntil(this.relays.deliver(PAYMENT))
    return { ok: true, value: this.store.record ?? null }
  }

  /** WeChat closed the order (closeorder SUCCESS). A payment recorded meanwhile outranks it. */
  async learnClosed(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    const opened = await this.store.open(outTradeNo)
    if (!opened.ok || !opened.value) return opened
    await this.store.apply({ kind: 'state', trade_state: 'CLOSED' })
    return { ok: true, value: this.store.record ?? null }
  }

  /**
   * A verified payment notification: reconcile, record, relay once. Resolves when the shop has the
   * payment (or already had it); a notification arriving while a relay is in flight waits for it.
   * `appid`: the one it was sent for, which must be the order's.
   */
  async notifyPayment(payment: Payment, appid: string): Promise<Outcome> {
    const opened = await this.store.open(payment.out_trade_no)
    if (!opened.ok) return unreadable(payment.out_trade_no)
    const mismatch = this.otherAppid(opened.value, appid, { out_trade_no: payment.out_trade_no })
    if (mismatch) return mismatch
    const accepted = await this.payments.accept(payment, 'notification')
    if (!accepted.ok) return accepted
    return this.relays.deliver(PAYMENT)
  }

  /**
   * What a verified refundquery reply says, once matched to the order and the refunds held here;
   * refunds reaching a final state are relayed in the background.
   */
  async learnRefunds(outTradeNo: string, reply: Fields): Promise<Result<OrderRecord | null>> {
    const opened = await this.store.open(outTradeNo)
    if (!opened.ok || !opened.value) return opened
    const mismatch = await this.refundChecks.reconcile(reply, {}, 'refundquery')
    if (mismatch) return { ok: false, failure: mismatch }
    for (const refund of this.store.record?.refunds ?? []) {
      if (isFinalRefund(refund.refund_status) && !refund.relayed_at)
        this.ctx.waitUntil(this.relays.deliver(refundKey(refund.out_refund_no)))
    }
    return { ok: true, value: this.store.record ?? null }
  }

  /**
   * A decrypted refund notification — unsigned, so only a hint: the refund's state is confirmed
   * with refundquery (a signed reply) before anything is recorded, then relayed once. `appid`
   * undefined: a v3 refund notification, whose resource names none (the refund query confirms it).
   */
  async notifyRefund(notice: RefundNotice, appid: string | undefined): Promise<Outcome> {
    const opened = await this.store.open(notice.out_trade_no)
    if (!opened.ok) return unreadable(notice.out_trade_no)
    const detail = { out_trade_no: notice.out_trade_no, out_refund_no: notice.out_refund_no }
    const mismatch = appid === undefined ? undefined : this.otherAppid(opened.value, appid, detail)
    if (mismatch) return mismatch
    return this.refundChecks.notified(opened.value, notice)
  }

  /**
   * A notification for another appid than the order was placed under is not about this order, even
   * from one of the merchant's appids: refused before anything is recorded or relayed.
   */
  private otherAppid(record: OrderRecord | null, appid: string, detail: Record<string, string>): Outcome | undefined {
    if (!record) return undefined
    const own = this.upstream.appidOf(record)
    if (appid === own) return undefined
    return {
      ok: false,
      reason: 'appid_mismatch',
      message: "appid is not the order's",
      detail: { ...detail, appid, order_appid: own },
    }
  }

  // ---- RPC: refunds ----------------------------------------------------------------------------

  /**
   * Asks WeChat to refund, once per out_refund_no. The refund is stored as REQUESTING (holding its
   * money) before WeChat is asked, so concurrent refunds can never add up past what was paid.
   */
  async requestRefund(request: RefundRequest): Promise<Result<RefundAnswer>> {
    const opened = await this.store.open(request.out_trade_no)
    if (!opened.ok) return opened
    const record = opened.value
    const no = request.out_trade_no
    if (!record) return { ok: false, failure: { kind: 'noRecord', message: `no record of order ${no}` } }
    return this.refundRequests.request(record, request)
  }

  // ---- RPC: operating --------------------------------------------------------------------------

  /**
   * Relays the payment (or a refund's final state) again now, even if the shop had it (a shop that
   * lost its data). Joins a relay already in flight rather than start a second one.
   */
  async redeliver(outTradeNo: string, outRefundNo?: string): Promise<Result<RelayResult>> {
    const opened = await this.store.open(outTradeNo)
    if (!opened.ok) return opened
    const record = opened.value
    if (!record) return { ok: false, failure: { kind: 'noRecord', message: `no record of order ${outTradeNo}` } }
    await this.store.touch()
    return this.relays.redeliver(outTradeNo, record, outRefundNo)
  }

  /** Runs every task due (the earliest one even if the clock says it is a little early). */
  override async alarm(): Promise<void> {
    const { store } = this
    store.alarmFired()
    const stored = await store.stored()
    if (!stored) return
    await store.load(stored.out_trade_no)
    const config = this.upstream.config()
    const due = dueTimes(store.tasks, schedules(config))
    const horizon = Math.max(Date.now(), due[0]?.at ?? 0)
    for (const { due: task, at } of due) {
      if (at > horizon) break
      try {
        if (task.task === 'snapshot') await store.snapshots.flush({ fromAlarm: true })
        else if (task.task === 'relay') await this.relays.retry(task.key, config)
        else if (task.task === 'check') await this.payments.selfCheck(config)
        else if (task.task === 'retention') await this.retention.run(config)
        else await this.refundSelfChecks.check(task.outRefundNo, config)
      } catch (err) {
        log('error', {
          event: 'ledger_task_failed',
          out_trade_no: stored.out_trade_no,
          task: task.task,
          error: errorName(err),
        })
      }
    }
    await store.persist()
  }
}

function unreadable(outTradeNo: string): Outcome {
  return { ok: false, reason: 'internal', message: 'order record unreadable', detail: { out_trade_no: outTradeNo } }
}
