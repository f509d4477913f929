/**
 * @module
 * Relaying to the shop: the payment, or a refund once it is final, signed and POSTed to its
 * notify_url. Never two relays in flight for the same thing (callers arriving meanwhile share the
 * outcome); every failure schedules a retry, and a spent schedule marks the relay as failed.
 */
import type { Config } from '../config'
import { type RelayEvent, type RelayResult, relay } from '../relay'
import { log } from './log'
import { isFinalRefund, type OrderRecord, type Refund } from './record'
import { refundEvent } from './refunds'
import { type Outcome, type Result, wechat } from './rpc'
import type { Store } from './store'
import { PAYMENT, refundKey, refundNoOf, scheduleRelay } from './tasks'

type Target = { url: string; event: RelayEvent; state: Refund | OrderRecord }

export class Relays {
  /** The relay in flight per key (`payment` or `refund:<out_refund_no>`), for this instance. */
  private readonly relaying = new Map<string, Promise<Outcome>>()

  constructor(private readonly store: Store) {}

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

  /** The alarm's relay retry; when the schedule is spent, the relay is marked failed for good. */
  async retry(key: string, config: Config): Promise<void> {
    const { store } = this
    const task = store.tasks.relays?.[key]
    if (!task) return
    const outcome = await this.deliver(key)
    const no = store.record?.out_trade_no
    log('info', { event: 'relay_retry', out_trade_no: no, relay: key, attempt: task.k + 1, delivered: outcome.ok })
    if (outcome.ok || !store.tasks.relays?.[key]) return
    const next = { ...task, k: task.k + 1 }
    store.tasks.relays = { ...store.tasks.relays, [key]: next }
    if (next.k < config.relayRetrySchedule.length) return
    delete store.tasks.relays[key]
    const now = new Date().toISOString()
    let error: string | undefined
    if (key === PAYMENT) {
      const record = store.record as OrderRecord
      store.record = { ...record, relay_failed_at: now, updated_at: now }
      error = record.relay_error
    } else {
      store.replaceRefund(refundNoOf(key), (refund) => {
        error = refund.relay_error
        return { ...refund, relay_failed_at: now, updated_at: now }
      })
    }
    log('error', { event: 'relay_schedule_spent', out_trade_no: no, relay: key, attempts: next.k, error })
    await store.changed()
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
    const config = store.config()
    const result = await relay(target.url, target.event, {
      secrets: config.notifySecrets,
      timeoutMs: config.relayTimeoutMs,
    })
    const now = new Date().toISOString()
    const change = (state: { relayed_at?: string; relay_failures?: number }) =>
      result.delivered
        ? { relayed_at: state.relayed_at ?? now }
        : { relay_failures: (state.relay_failures ?? 0) + 1, relay_error: result.reason }
    if (key === PAYMENT) {
      const record = store.record as OrderRecord
      store.record = { ...record, ...change(record), updated_at: now }
    } else {
      store.replaceRefund(refundNoOf(key), (refund) => ({ ...refund, ...change(refund), updated_at: now }))
    }
    if (result.delivered) {
      if (store.tasks.relays) delete store.tasks.relays[key]
    } else {
      scheduleRelay(store.tasks, key)
    }
    await store.changed()
    if (result.delivered) return { ok: true, duplicate: false, status: result.status }
    return {
      ok: false,
      reason: 'relay_failed',
      message: 'merchant backend unavailable',
      detail: { out_trade_no: store.record?.out_trade_no ?? '', relay: key, error: result.reason },
    }
  }
}
