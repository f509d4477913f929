/**
 * @module
 * Asking WeChat for a refund, once per out_refund_no. The refund is stored as REQUESTING (holding
 * its money) before WeChat is asked, so concurrent refunds can never add up past what was paid; an
 * identical request arriving while WeChat is asked shares that call.
 */
import { type Failure, PayError } from '../errors'
import { errorName, log } from '../log'
import { RETRYABLE_REFUND_ERRORS, type RefundReceipt, refundFields, refundReceiptOf } from '../wechat/refund'
import type { OrderRecord, Refund } from './record'
import { type RefundAnswer, type RefundRequest, type Result, wechat } from './rpc'
import type { Store } from './store'
import { startRefundCheck, stopRefundCheck } from './tasks'
import type { Upstream } from './upstream'

export class RefundRequests {
  /** The refund call to WeChat in flight per out_refund_no, for this instance. */
  private readonly refunding = new Map<string, Promise<Result<RefundAnswer>>>()

  constructor(
    private readonly store: Store,
    private readonly upstream: Upstream,
  ) {}

  /** WeChat is being asked for this refund now (by this instance). */
  asking(outRefundNo: string): boolean {
    return this.refunding.has(outRefundNo)
  }

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
    }
    // In flight from here on, before anything is awaited: an identical request joins this one.
    const stored = existing ? Promise.resolve(undefined) : this.hold(record, request, notifyUrl, fingerprint)
    const done = stored.then((refused) => (refused ? refused : this.ask(request)))
    this.refunding.set(request.out_refund_no, done)
    try {
      return await done
    } finally {
      if (this.refunding.get(request.out_refund_no) === done) this.refunding.delete(request.out_refund_no)
    }
  }

  /** Stores the new refund as REQUESTING, holding its money, with its self-check; or says why not. */
  private async hold(
    _record: OrderRecord,
    request: RefundRequest,
    notifyUrl: string,
    fingerprint: string,
  ): Promise<Result<never> | undefined> {
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
    const applied = await this.store.apply({ kind: 'refundRequested', refund }, (tasks) =>
      startRefundCheck(tasks, refund.out_refund_no),
    )
    if (applied.ok) return undefined
    const kind = applied.refusal === 'not_paid' ? 'notPaid' : 'refundTooLarge'
    return { ok: false, failure: { kind, message: applied.message } }
  }

  private async ask(request: RefundRequest): Promise<Result<RefundAnswer>> {
    const { store } = this
    const record = store.record as OrderRecord
    const refund = store.refund(request.out_refund_no) as Refund
    const asked = {
      out_trade_no: record.out_trade_no,
      out_refund_no: refund.out_refund_no,
      total_fee: record.total_fee,
      refund_fee: refund.refund_fee,
    }
    let receipt: RefundReceipt
    try {
      const fields = refundFields({
        ...asked,
        ...(refund.refund_desc !== undefined && { refund_desc: refund.refund_desc }),
        notify_url: request.wechat_notify_url,
      })
      const appid = this.upstream.appidOf(record)
      receipt = refundReceiptOf(await this.upstream.client().call('/secapi/pay/refund', { ...fields, appid }), asked)
    } catch (err) {
      return this.notAccepted(refund, err)
    }
    // A final state learned while WeChat was asked (its notification, a query) stays: this only
    // takes REQUESTING to PROCESSING and sets refund_id once.
    await store.apply({ kind: 'refundAccepted', out_refund_no: refund.out_refund_no, refund_id: receipt.refund_id })
    log('info', {
      event: 'refund_requested',
      out_trade_no: record.out_trade_no,
      out_refund_no: refund.out_refund_no,
      refund_fee: refund.refund_fee,
    })
    return this.current(refund.out_refund_no) ?? { ok: false, failure: { kind: 'internal', message: 'refund lost' } }
  }

  /**
   * WeChat did not take the refund, or its answer is unknown. Unknown (no answer, "try again", a
   * reply that does not match the refund asked for): the refund stays held and asking again with
   * the same out_refund_no is safe. Any other answer is a no for good, and the refund is dropped —
   * but only while it is still REQUESTING: whatever WeChat's signed word said meanwhile wins.
   */
  private async notAccepted(refund: Refund, err: unknown): Promise<Result<RefundAnswer>> {
    const { store } = this
    const no = store.record?.out_trade_no
    const f: Failure =
      err instanceof PayError ? err.failure : { kind: 'internal', message: `internal error (${errorName(err)})` }
    const unknown =
      f.kind === 'upstream' ||
      f.kind === 'timeout' ||
      f.kind === 'internal' ||
      (f.kind === 'wechat' && RETRYABLE_REFUND_ERRORS.has(f.errCode))
    const dropped = unknown
      ? undefined
      : await store.apply({ kind: 'refundDropped', out_refund_no: refund.out_refund_no }, (tasks) =>
          stopRefundCheck(tasks, refund.out_refund_no),
        )
    log('warn', {
      event: 'refund_not_accepted',
      out_trade_no: no,
      out_refund_no: refund.out_refund_no,
      kind: f.kind,
      held: unknown,
      error: f.message,
      ...(dropped && !dropped.ok && { kept: dropped.message }),
    })
    // The refund moved on while WeChat was asked: that is the answer.
    if (dropped && !dropped.ok) return this.current(refund.out_refund_no) ?? { ok: false, failure: f }
    const hint = ' — the refund is held: retry with the same out_refund_no'
    return { ok: false, failure: unknown ? { ...f, message: `${f.message}${hint}` } : f }
  }

  /** The refund as it stands now, as /v1/pay/refund answers it. */
  private current(outRefundNo: string): Result<RefundAnswer> | undefined {
    const record = this.store.record
    const refund = this.store.refund(outRefundNo)
    return record && refund ? { ok: true, value: answer(record, refund) } : undefined
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
