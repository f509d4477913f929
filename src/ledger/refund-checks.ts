/**
 * @module
 * Learning how refunds went from WeChat's signed word (refundquery): the stored refunds move
 * forward, refunds made elsewhere are recorded, and a refund reaching a final state is relayed.
 * A refund notification is unsigned, so it is only a hint that is confirmed this way first.
 */
import type { Config } from '../config'
import { type Failure, PayError } from '../errors'
import { type RefundQuery, type RefundRecord, refundQueryOf } from '../wechat/refund'
import { checkError, log, name } from './log'
import { isFinalRefund, isPaid, type OrderRecord, type Refund } from './record'
import { learnRefund } from './refunds'
import type { Relays } from './relays'
import type { Outcome } from './rpc'
import type { Store } from './store'
import { refundKey, scheduleRelay, startRefundCheck, stopRefundCheck } from './tasks'

export type RefundNotice = { out_trade_no: string; out_refund_no: string; refund_status: string }

export class RefundChecks {
  constructor(
    private readonly store: Store,
    private readonly relays: Relays,
  ) {}

  /** Moves the stored refunds forward with a verified refundquery; an amount WeChat disagrees on is refused. */
  async reconcile(query: RefundQuery, source: string): Promise<Failure | undefined> {
    const { store } = this
    const record = store.record
    if (!record) return undefined
    if (query.out_trade_no !== record.out_trade_no || query.total_fee !== record.total_fee) {
      log('error', {
        event: 'refund_mismatch',
        source,
        out_trade_no: record.out_trade_no,
        reason: 'order or total_fee',
      })
      return { kind: 'upstream', message: `refundquery reports another order or total_fee for ${record.out_trade_no}` }
    }
    const now = new Date().toISOString()
    let refunds = [...(record.refunds ?? [])]
    for (const reported of query.refunds) {
      const index = refunds.findIndex((refund) => refund.out_refund_no === reported.out_refund_no)
      const known = refunds[index]
      if (known && known.refund_fee !== reported.refund_fee) {
        log('error', {
          event: 'refund_mismatch',
          source,
          out_trade_no: record.out_trade_no,
          out_refund_no: reported.out_refund_no,
          reported: reported.refund_fee,
          recorded: known.refund_fee,
        })
        return {
          kind: 'upstream',
          message: `WeChat reports refund_fee ${reported.refund_fee} for ${reported.out_refund_no}, ${known.refund_fee} was asked`,
        }
      }
      const learned = known ? learnRefund(known, reported, now) : foreignRefund(record, reported, now)
      if (!learned) continue
      refunds = known ? refunds.map((refund, i) => (i === index ? learned : refund)) : [...refunds, learned]
      // A refund made elsewhere (the merchant platform) and still in progress checks itself too.
      if (!known && !isFinalRefund(learned.refund_status)) startRefundCheck(store.tasks, learned.out_refund_no)
      if (isFinalRefund(learned.refund_status) && !isFinalRefund(known?.refund_status ?? 'REQUESTING')) {
        log('info', {
          event: 'refund_settled',
          source,
          out_trade_no: record.out_trade_no,
          out_refund_no: learned.out_refund_no,
          refund_status: learned.refund_status,
        })
        stopRefundCheck(store.tasks, learned.out_refund_no)
        scheduleRelay(store.tasks, refundKey(learned.out_refund_no))
      }
    }
    if (JSON.stringify(refunds) === JSON.stringify(record.refunds ?? [])) return undefined
    const refundedAny = refunds.some((refund) => refund.refund_status === 'SUCCESS')
    store.record = {
      ...record,
      refunds,
      ...(refundedAny && isPaid(record.trade_state) && { trade_state: 'REFUND' as const }),
      updated_at: now,
    }
    await store.changed()
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
    const known = record.refunds?.find((refund) => refund.out_refund_no === notice.out_refund_no)
    if (!known) return { ok: false, reason: 'unknown_refund', message: 'refund unknown', detail }
    if (!isFinalRefund(known.refund_status)) {
      try {
        const reply = await store.client().call('/pay/refundquery', { out_refund_no: notice.out_refund_no })
        const mismatch = await this.reconcile(refundQueryOf(reply), 'refund_notification')
        if (mismatch) return { ok: false, reason: 'amount_mismatch', message: mismatch.message, detail }
      } catch (err) {
        const error = err instanceof PayError ? err.message : name(err)
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

  /** The alarm's refund self-check: asks WeChat about a refund not yet final, and relays it once it is. */
  async check(outRefundNo: string, config: Config): Promise<void> {
    const { store } = this
    const task = store.tasks.refunds?.[outRefundNo]
    const refund = store.refund(outRefundNo)
    if (!task || !refund || isFinalRefund(refund.refund_status)) {
      stopRefundCheck(store.tasks, outRefundNo)
      return
    }
    let found = 'error'
    try {
      const reply = await store.client(config).call('/pay/refundquery', { out_refund_no: outRefundNo })
      const mismatch = await this.reconcile(refundQueryOf(reply), 'self_check')
      found = mismatch ? `refused: ${mismatch.message}` : (store.refund(outRefundNo)?.refund_status ?? 'none')
    } catch (err) {
      found = checkError(err)
    }
    const settled = isFinalRefund(store.refund(outRefundNo)?.refund_status ?? 'REQUESTING')
    if (settled) await this.relays.deliver(refundKey(outRefundNo))
    const next = { ...task, k: task.k + 1 }
    if (settled || next.k >= config.refundCheckSchedule.length) stopRefundCheck(store.tasks, outRefundNo)
    else store.tasks.refunds = { ...store.tasks.refunds, [outRefundNo]: next }
    log('info', {
      event: 'refund_check',
      out_trade_no: store.record?.out_trade_no,
      out_refund_no: outRefundNo,
      check: task.k + 1,
      found,
    })
  }
}

/** A refund WeChat reports that was not asked for here (e.g. made on the merchant platform). */
function foreignRefund(record: OrderRecord, reported: RefundRecord, now: string): Refund {
  return {
    out_refund_no: reported.out_refund_no,
    refund_fee: reported.refund_fee,
    notify_url: record.notify_url,
    fingerprint: 'reported-by-wechat',
    refund_status: reported.refund_status,
    refund_id: reported.refund_id,
    ...(reported.success_time !== undefined && { success_time: reported.success_time }),
    ...(reported.refund_recv_accout !== undefined && { refund_recv_accout: reported.refund_recv_accout }),
    requested_at: now,
    updated_at: now,
  }
}
