/**
 * @module
 * The alarm's refund self-check, on REFUND_CHECK_SCHEDULE: a refund not yet final asks WeChat
 * (refundquery) and is relayed once final. A refund still REQUESTING (its request lost, or the
 * process stopped before asking) asks too; when WeChat still does not know it (REFUNDNOTEXIST) at
 * the last check of the schedule, having said so at an earlier one, it was never made: its hold is
 * released and logged, and the shop can refund again (README "POST /v1/pay/refund").
 */
import type { Config } from '../config'
import { PayError } from '../errors'
import { log } from '../log'
import { checkError } from './check-error'
import { isFinalRefund } from './record'
import type { RefundChecks } from './refund-checks'
import type { RefundRequests } from './refund-requests'
import type { Relays } from './relays'
import type { Store } from './store'
import { refundKey, stopRefundCheck } from './tasks'
import type { Upstream } from './upstream'

export class RefundSelfChecks {
  constructor(
    private readonly store: Store,
    private readonly upstream: Upstream,
    private readonly relays: Relays,
    private readonly checks: RefundChecks,
    private readonly requests: RefundRequests,
  ) {}

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
      const appid = this.upstream.appidOf(store.record ?? {}, config)
      const reply = await this.upstream.client(config).call('/pay/refundquery', { ...asked, appid })
      const mismatch = await this.checks.reconcile(reply, asked, 'self_check')
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
