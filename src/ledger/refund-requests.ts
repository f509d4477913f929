/**
 * @module
 * Asking WeChat for a refund, once per out_refund_no. The refund is stored as REQUESTING (holding
 * its money) before WeChat is asked, so concurrent refunds can never add up past what was paid; an
 * identical request arriving while WeChat is asked shares that call.
 */
import { type Failure, PayError } from '../errors'
import { amount } from '../wechat/order'
import { RETRYABLE_REFUND_ERRORS, refundFields } from '../wechat/refund'
import type { Fields } from '../wechat/xml'
import { log, name } from './log'
import type { OrderRecord, Refund } from './record'
import { refuseNewRefund } from './refunds'
import { type RefundAnswer, type RefundRequest, type Result, wechat } from './rpc'
import type { Store } from './store'
import { startRefundCheck, stopRefundCheck } from './tasks'

export class RefundRequests {
  /** The refund call to WeChat in flight per out_refund_no, for this instance. */
  private readonly refunding = new Map<string, Promise<Result<RefundAnswer>>>()

  constructor(private readonly store: Store) {}

  async request(record: OrderRecord, request: RefundRequest): Promise<Result<RefundAnswer>> {
    const { store } = this
    const notifyUrl = request.notify_url ?? record.notify_url
    const fingerprint = JSON.stringify([request.refund_fee, request.refund_desc ?? '', notifyUrl])
    const existing = store.refund(request.out_refund_no)
    if (existing) {
      if (existing.fingerprint !== fingerprint)
        return wechat('OUT_REFUND_NO_USED', `out_refund_no ${request.out_refund_no} was already used with other fields`)
      const inFlight = this.refunding.get(request.out_refund_no)
      if (inFlight) return inFlight
      if (existing.refund_status !== 'REQUESTING') return { ok: true, value: answer(record, existing) }
      // Asked before, and WeChat's answer never arrived: asking again with the same out_refund_no is safe.
    } else {
      const refused = refuseNewRefund(record, request.refund_fee)
      if (refused) return { ok: false, failure: refused }
      const now = new Date().toISOString()
      const refund: Refund = {
        out_refund_no: request.out_refund_no,
        refund_fee: request.refund_fee,
        ...(request.refund_desc !== undefined && { refund_desc: request.refund_desc }),
        notify_url: notifyUrl,
        fingerprint,
        refund_status: 'REQUESTING',
        requested_at: now,
        updated_at: now,
      }
      store.record = { ...record, refunds: [...(record.refunds ?? []), refund], updated_at: now }
      startRefundCheck(store.tasks, refund.out_refund_no)
    }
    // In flight from here on, before anything is awaited: an identical request joins this one.
    const stored = existing ? Promise.resolve() : store.changed()
    const done = stored.then(() => this.ask(request))
    this.refunding.set(request.out_refund_no, done)
    try {
      return await done
    } finally {
      if (this.refunding.get(request.out_refund_no) === done) this.refunding.delete(request.out_refund_no)
    }
  }

  private async ask(request: RefundRequest): Promise<Result<RefundAnswer>> {
    const { store } = this
    const record = store.record as OrderRecord
    const refund = store.refund(request.out_refund_no) as Refund
    let reply: Fields
    try {
      const fields = refundFields({
        out_trade_no: record.out_trade_no,
        out_refund_no: refund.out_refund_no,
        total_fee: record.total_fee,
        refund_fee: refund.refund_fee,
        ...(refund.refund_desc !== undefined && { refund_desc: refund.refund_desc }),
        notify_url: request.wechat_notify_url,
      })
      reply = await store.client().call('/secapi/pay/refund', fields)
    } catch (err) {
      // Anything unexpected is treated like a lost answer: the refund stays held, safe to ask again.
      const f: Failure =
        err instanceof PayError ? err.failure : { kind: 'internal', message: `internal error (${name(err)})` }
      // Unknown whether WeChat took it (no answer, or "try again"): the refund stays held and
      // asking again with the same out_refund_no is safe. Any other answer is a no for good.
      const unknown =
        f.kind === 'upstream' ||
        f.kind === 'timeout' ||
        f.kind === 'internal' ||
        (f.kind === 'wechat' && RETRYABLE_REFUND_ERRORS.has(f.errCode))
      if (!unknown) await this.drop(refund.out_refund_no)
      log('warn', {
        event: 'refund_not_accepted',
        out_trade_no: record.out_trade_no,
        out_refund_no: refund.out_refund_no,
        kind: f.kind,
        held: unknown,
        error: f.message,
      })
      const hint = ' — the refund is held: retry with the same out_refund_no'
      return { ok: false, failure: unknown ? { ...f, message: `${f.message}${hint}` } : f }
    }
    const refundId = reply.refund_id
    const refundFee = amount(reply.refund_fee)
    if (!refundId || reply.out_refund_no !== refund.out_refund_no || refundFee !== refund.refund_fee) {
      log('error', {
        event: 'refund_mismatch',
        source: 'refund',
        out_trade_no: record.out_trade_no,
        out_refund_no: refund.out_refund_no,
      })
      return {
        ok: false,
        failure: { kind: 'upstream', message: 'the refund reply does not match the refund asked for' },
      }
    }
    store.replaceRefund(refund.out_refund_no, (current) => ({
      ...current,
      refund_id: refundId,
      refund_status: current.refund_status === 'REQUESTING' ? 'PROCESSING' : current.refund_status,
      updated_at: new Date().toISOString(),
    }))
    await store.changed()
    log('info', {
      event: 'refund_requested',
      out_trade_no: record.out_trade_no,
      out_refund_no: refund.out_refund_no,
      refund_fee: refund.refund_fee,
    })
    return { ok: true, value: answer(store.record as OrderRecord, store.refund(refund.out_refund_no) as Refund) }
  }

  /** WeChat said no for good: the refund is forgotten and its money no longer held. */
  private async drop(outRefundNo: string): Promise<void> {
    const { store } = this
    const record = store.record as OrderRecord
    const refunds = (record.refunds ?? []).filter((r) => r.out_refund_no !== outRefundNo)
    store.record = { ...record, refunds, updated_at: new Date().toISOString() }
    stopRefundCheck(store.tasks, outRefundNo)
    await store.changed()
  }
}

function answer(record: OrderRecord, refund: Refund): RefundAnswer {
  return {
    out_trade_no: record.out_trade_no,
    out_refund_no: refund.out_refund_no,
    refund_id: refund.refund_id ?? '',
    refund_fee: refund.refund_fee,
    total_fee: record.total_fee,
    refund_status: refund.refund_status,
  }
}
