/**
 * @module
 * Learning how refunds went from WeChat's signed word (refundquery), each reply matched to what
 * was asked first (refundQueryOf): the stored refunds move forward, refunds made elsewhere are
 * recorded, and a refund reaching a final state is relayed. A refund notification is unsigned, so
 * it is only a hint that is confirmed this way first. A refund still REQUESTING (its request lost,
 * or the process stopped before asking) asks too; when WeChat still does not know it at the last
 * check of the schedule, having said so before, the hold is released (README "Refunds").
 */
import type { Config } from '../config'
import { type Failure, PayError } from '../errors'
import { errorName, log } from '../log'
import { type RefundNotice, refundQueryOf } from '../wechat/refund'
import type { Fields } from '../wechat/xml'
import { checkError } from './check-error'
import { isFinalRefund, type OrderRecord } from './record'
import type { RefundRequests } from './refund-requests'
import type { Relays } from './relays'
import type { Outcome } from './rpc'
import type { Store } from './store'
import { refundKey, scheduleRelay, startRefundCheck, stopRefundCheck } from './tasks'
import type { Upstream } from './upstream'

export class RefundChecks {
  constructor(
    private readonly store: Store,
    private readonly upstream: Upstream,
    private readonly relays: Relays,
    private readonly requests: RefundRequests,
  ) {}

  /**
   * Moves the stored refunds forward with a verified refundquery reply, once it is matched to the
   * order, to the refund asked about (if one was) and to the amounts held here.
   */
  async reconcile(reply: Fields, asked: { out_refund_no?: string }, source: string): Promise<Failure | undefined> {
    const { store } = this
    const record = store.record
    if (!record) return undefined
    let reported: ReturnType<typeof refundQueryOf>['refunds']
    try {
      reported = refundQueryOf(reply, {
        ...asked,
        out_trade_no: record.out_trade_no,
        total_fee: record.total_fee,
        refunds: record.refunds ?? [],
      }).refunds
    } catch (err) {
      if (!(err instanceof PayError)) throw err
      log('error', {
        event: 'refund_mismatch',
        source,
        out_trade_no: record.out_trade_no,
        ...mismatchOf(reply, record),
      })
      return err.failure
    }
    for (const refund of reported) {
      const before = store.refund(refund.out_refund_no)
      const wasFinal = before !== undefined && isFinalRefund(before.refund_status)
      const final = isFinalRefund(refund.refund_status)
      const applied = await store.apply({ kind: 'refundReported', reported: refund }, (tasks) => {
        // A refund made elsewhere (the merchant platform) and still in progress checks itself too.
        if (!before && !final) startRefundCheck(tasks, refund.out_refund_no)
        if (final && !wasFinal) {
          stopRefundCheck(tasks, refund.out_refund_no)
          scheduleRelay(tasks, refundKey(refund.out_refund_no))
        }
      })
      if (!applied.ok) {
        log('error', {
          event: 'refund_not_recorded',
          source,
          out_trade_no: record.out_trade_no,
          out_refund_no: refund.out_refund_no,
          refusal: applied.refusal,
        })
      } else if (applied.changed && final && !wasFinal) {
        log('info', {
          event: 'refund_settled',
          source,
          out_trade_no: record.out_trade_no,
          out_refund_no: refund.out_refund_no,
          refund_status: refund.refund_status,
        })
      }
    }
    return undefined
  }

  /**
   * A decrypted refund notification — unsigned, so only a hint: the refund's state is confirmed
   * with refundquery (a signed reply) before anything is recorded, then relayed once.
   */
  async notified(record: OrderRecord | null, notice: RefundNotice): Promise<Outcome> {
    const { store } = this
    const detail = { out_trade_no: notice.out_trade_no, out_refund_no: notice.out_refund_no }
    if (!record) return { ok: false, reason: 'unknown_order', message: 'order unknown', detail }
    const known = store.refund(notice.out_refund_no)
    if (!known) return { ok: false, reason: 'unknown_refund', message: 'refund unknown', detail }
    if (!isFinalRefund(known.refund_status)) {
      try {
        const asked = { out_refund_no: notice.out_refund_no }
        const reply = await this.upstream.client().call('/pay/refundquery', asked)
        const mismatch = await this.reconcile(reply, asked, 'refund_notification')
        if (mismatch) return { ok: false, reason: 'amount_mismatch', message: mismatch.message, detail }
      } catch (err) {
        const error = err instanceof PayError ? err.message : errorName(err)
        return {
          ok: false,
          reason: 'not_confirmed',
          message: 'refund state not confirmed',
          detail: { ...detail, error },
        }
      }
    }
    const confirmed = store.refund(notice.out_refund_no)
    if (!confirmed || !isFinalRefund(confirmed.refund_status) || confirmed.refund_status !== notice.refund_status) {
      return {
        ok: false,
        reason: 'not_confirmed',
        message: 'refund state not confirmed',
        detail: { ...detail, notified: notice.refund_status, confirmed: confirmed?.refund_status ?? 'none' },
      }
    }
    return this.relays.deliver(refundKey(notice.out_refund_no))
  }

  /**
   * The alarm's refund self-check: asks WeChat about a refund not yet final, and relays it once it
   * is. A REQUESTING refund WeChat does not know (REFUNDNOTEXIST) at the last check, having said
   * so at an earlier one too, was never made: its hold is released.
   */
  async check(outRefundNo: string, config: Config): Promise<void> {
    const { store } = this
    const task = store.tasks.refunds?.[outRefundNo]
    const refund = store.refund(outRefundNo)
    if (!task || !refund || isFinalRefund(refund.refund_status)) {
      stopRefundCheck(store.tasks, outRefundNo)
      return
    }
    let found = 'error'
    let unknown = false
    try {
      const asked = { out_refund_no: outRefundNo }
      const reply = await this.upstream.client(config).call('/pay/refundquery', asked)
      const mismatch = await this.reconcile(reply, asked, 'self_check')
      found = mismatch ? `refused: ${mismatch.message}` : (store.refund(outRefundNo)?.refund_status ?? 'none')
    } catch (err) {
      found = checkError(err)
      unknown = err instanceof PayError && err.failure.kind === 'wechat' && err.failure.errCode === 'REFUNDNOTEXIST'
    }
    const now = store.refund(outRefundNo)
    const settled = isFinalRefund(now?.refund_status ?? 'REQUESTING')
    if (settled) await this.relays.deliver(refundKey(outRefundNo))
    const next = { ...task, k: task.k + 1, missing: (task.missing ?? 0) + (unknown ? 1 : 0) }
    const last = next.k >= config.refundCheckSchedule.length
    if (settled || last) stopRefundCheck(store.tasks, outRefundNo)
    else store.tasks.refunds = { ...store.tasks.refunds, [outRefundNo]: next }
    log('info', {
      event: 'refund_check',
      out_trade_no: store.record?.out_trade_no,
      out_refund_no: outRefundNo,
      check: task.k + 1,
      found,
    })
    const confirmed = next.missing >= Math.min(2, config.refundCheckSchedule.length)
    if (unknown && last && confirmed && now?.refund_status === 'REQUESTING' && !this.requests.asking(outRefundNo))
      await this.release(outRefundNo, next.k)
  }

  /** WeChat confirmed it never got the refund: it is recorded as never made, and its money is no longer held. */
  private async release(outRefundNo: string, checks: number): Promise<void> {
    const { store } = this
    const refund = store.refund(outRefundNo)
    const applied = await store.apply({ kind: 'refundDropped', out_refund_no: outRefundNo }, (tasks) =>
      stopRefundCheck(tasks, outRefundNo),
    )
    if (!applied.ok || !applied.changed) return
    log('warn', {
      event: 'refund_released',
      out_trade_no: store.record?.out_trade_no,
      out_refund_no: outRefundNo,
      refund_fee: refund?.refund_fee,
      checks,
    })
  }
}

/** What a refund_mismatch line says: the refund whose amount differs, when that is what differs. */
function mismatchOf(reply: Fields, record: OrderRecord): Record<string, string | number> {
  try {
    for (const reported of refundQueryOf(reply, {}).refunds) {
      const known = record.refunds?.find((refund) => refund.out_refund_no === reported.out_refund_no)
      if (known && known.refund_fee !== reported.refund_fee)
        return { out_refund_no: known.out_refund_no, reported: reported.refund_fee, recorded: known.refund_fee }
    }
  } catch {}
  return { reason: 'order, total_fee or refund' }
}
