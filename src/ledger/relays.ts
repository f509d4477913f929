/**
 * @module
 * Relaying to the shop: the payment, or a refund once it is final, signed and POSTed to its
 * notify_url. Never two relays in flight for the same thing (callers arriving meanwhile share the
 * outcome); every failure schedules a retry, and a spent schedule marks the relay as failed.
 */
import type { Config } from '../config'
import { log } from '../log'
import { type RelayEvent, type RelayResult, relay } from '../relay'
import { isFinalRefund, type OrderRecord, type Refund } from './record'
import { refundEvent } from './refunds'
import { type Outcome, type Result, wechat } from './rpc'
import type { Store } from './store'
import { endRelay, PAYMENT, refundKey, refundNoOf, scheduleRelay } from './tasks'
import type { Upstream } from './upstream'

type Target = { url: string; event: RelayEvent; state: Refund | OrderRecord }

export class Relays {
  /** The relay in flight per key (`payment` or `refund:<out_refund_no>`), for this instance. */
  private readonly relaying = new Map<string, Promise<Outcome>>()

  constructor(
    private readonly store: Store,
    private readonly upstream: Upstream,
  ) {}

  /**
   * Relays the payment or a refund unless the shop has it (or `again`); never two relays in flight
   * for the same thing: a caller arriving meanwhile shares the outcome.
   */
  deliver(key: string, { again = false } = {}): Promise<Outcome> {
    const target = this.target(key)
    if (!target) return Promise.resolve({ ok: false, reason: 'unknown_order', message: 'nothing to relay' })
    if (target.state.relayed_at && !again && !this.relaying.has(key))
      return Promise.resolve({ ok: true, duplicate: true })
    let inFlight = this.relaying.get(key)
    if (!inFlight) {
      inFlight = this.relayOnce(key).finally(() => this.relaying.delete(key))
      this.relaying.set(key, inFlight)
    }
    return inFlight
  }

  /**
   * Relays the payment (or a refund's final state) again now, even if the shop had it (a shop that
   * lost its data). Joins a relay already in flight rather than start a second one.
   */
  async redeliver(outTradeNo: string, record: OrderRecord, outRefundNo?: string): Promise<Result<RelayResult>> {
    let key = PAYMENT
    if (outRefundNo === undefined) {
      if (!record.payment)
        return { ok: false, failure: { kind: 'notPaid', message: `order ${outTradeNo} is not paid: nothing to relay` } }
    } else {
      const refund = this.store.refund(outRefundNo)
      if (!refund) return wechat('REFUNDNOTEXIST', `order ${outTradeNo} has no refund ${outRefundNo}`)
      if (!isFinalRefund(refund.refund_status)) {
        return {
          ok: false,
          failure: {
            kind: 'notPaid',
            message: `refund ${outRefundNo} is ${refund.refund_status}: nothing to relay yet`,
          },
        }
      }
      key = refundKey(outRefundNo)
    }
    const outcome = await this.deliver(key, { again: true })
    log('info', { event: 'redelivery', out_trade_no: outTradeNo, relay: key, delivered: outcome.ok })
    return {
      ok: true,
      value: outcome.ok
        ? { delivered: true, status: outcome.status ?? 200 }
        : { delivered: false, reason: String(outcome.detail?.error ?? outcome.message) },
    }
  }

  /**
   * The alarm's relay retry. The task ends when the relay is delivered — now, or already (a
   * redelivery or a notification got there first) — and when its schedule is spent, which marks
   * the relay failed for good.
   */
  async retry(key: string, config: Config): Promise<void> {
    const { store } = this
    const task = store.tasks.relays?.[key]
    if (!task) return
    const outcome = await this.deliver(key)
    const no = store.record?.out_trade_no
    log('info', {
      event: 'relay_retry',
      out_trade_no: no,
      relay: key,
      attempt: task.k + 1,
      delivered: outcome.ok,
      ...(outcome.ok && outcome.duplicate && { already: true }),
    })
    if (!store.tasks.relays?.[key]) return
    if (outcome.ok) {
      endRelay(store.tasks, key)
      await store.persist()
      return
    }
    const next = { ...task, k: task.k + 1 }
    if (next.k < config.relayRetrySchedule.length) {
      store.tasks.relays = { ...store.tasks.relays, [key]: next }
      await store.persist()
      return
    }
    const state = key === PAYMENT ? store.record : store.refund(refundNoOf(key))
    await store.apply({ kind: 'relaySpent', relay: key }, (tasks) => endRelay(tasks, key))
    endRelay(store.tasks, key)
    await store.persist()
    log('error', {
      event: 'relay_schedule_spent',
      out_trade_no: no,
      relay: key,
      attempts: next.k,
      error: state?.relay_error,
    })
  }

  private target(key: string): Target | undefined {
    const record = this.store.record
    if (!record) return undefined
    if (key === PAYMENT) {
      return (
        record.payment && { url: record.notify_url, event: { type: 'payment', data: record.payment }, state: record }
      )
    }
    const refund = this.store.refund(refundNoOf(key))
    if (!refund || !isFinalRefund(refund.refund_status)) return undefined
    return { url: refund.notify_url, event: { type: 'refund', data: refundEvent(record, refund) }, state: refund }
  }

  private async relayOnce(key: string): Promise<Outcome> {
    const { store } = this
    const target = this.target(key) as Target
    const config = this.upstream.config()
    const result = await relay(target.url, target.event, {
      secrets: config.notifySecrets,
      timeoutMs: config.relayTimeoutMs,
    })
    if (result.delivered) {
      await store.apply({ kind: 'relayed', relay: key }, (tasks) => endRelay(tasks, key))
      // Delivered before (a redelivery): there is nothing left to retry either.
      if (store.tasks.relays?.[key]) {
        endRelay(store.tasks, key)
        await store.persist()
      }
    } else {
      // A failed redelivery of what the shop already has schedules nothing: no retry could advance
      // (the shop is told, and may ask again). Anything else is retried on the schedule.
      const delivered = target.state.relayed_at !== undefined
      await store.apply({ kind: 'relayFailed', relay: key, error: result.reason }, (tasks) => {
        if (!delivered) scheduleRelay(tasks, key)
      })
    }
    if (result.delivered) return { ok: true, duplicate: false, status: result.status }
    return {
      ok: false,
      reason: 'relay_failed',
      message: 'merchant backend unavailable',
      detail: { out_trade_no: store.record?.out_trade_no ?? '', relay: key, error: result.reason },
    }
  }
}
