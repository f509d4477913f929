import { type Failure, PayError } from '../errors'
import { errorName, log } from '../log'
import { type RefundNotice, refundQueryOf } from '../wechat/refund'
import type { Fields } from '../wechat/xml'
import { isFinalRefund, type OrderRecord } from './record'
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
        const appid = this.upstream.appidOf(record)
        const reply = await this.upstream.client().call('/pay/refundquery', { ...asked, appid })
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
