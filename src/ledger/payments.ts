/**
 * @module
 * Learning that an order is paid (or closed, or refunded) from WeChat's signed word: a payment
 * notification, an orderquery reply, or the ledger's own self-check. Each reply is matched to the
 * order first (orderReplyOf); a payment is then recorded once (the first transaction_id is the
 * only one) and relayed.
 */
import type { Config } from '../config'
import { PayError } from '../errors'
import { log } from '../log'
import { amount, orderReplyOf } from '../wechat/order'
import { readPayment } from '../wechat/payment'
import type { Fields } from '../wechat/xml'
import { checkError } from './check-error'
import { isSettled, type OrderRecord, type Payment, tradeState } from './record'
import type { Relays } from './relays'
import type { Outcome, Result } from './rpc'
import type { Store } from './store'
import { PAYMENT, scheduleRelay } from './tasks'
import type { Upstream } from './upstream'

export class Payments {
  constructor(
    private readonly store: Store,
    private readonly upstream: Upstream,
    private readonly relays: Relays,
  ) {}

  /**
   * What a verified orderquery reply says, once it is matched to the order: a payment is
   * accepted; any other state moves the record forward.
   */
  async learn(record: OrderRecord, reply: Fields, source: string): Promise<Result<void>> {
    const no = record.out_trade_no
    // The client checks the reply names the appid it asked with; a reply handed in from elsewhere too.
    const appid = this.upstream.appidOf(record)
    if (reply.appid !== undefined && reply.appid !== appid) {
      log('error', {
        event: 'order_reply_mismatch',
        source,
        out_trade_no: no,
        error: `appid ${reply.appid} is not the order's`,
      })
      return {
        ok: false,
        failure: { kind: 'upstream', message: `the ${source} reply is for another appid than order ${no}'s` },
      }
    }
    let state: ReturnType<typeof tradeState>
    try {
      state = tradeState(orderReplyOf(reply, { out_trade_no: no, total_fee: record.total_fee }).trade_state)
    } catch (err) {
      if (!(err instanceof PayError)) throw err
      const reported = amount(reply.total_fee)
      log(
        'error',
        reply.out_trade_no === no && reported !== undefined && reported !== record.total_fee
          ? { event: 'amount_mismatch', source, out_trade_no: no, reported, recorded: record.total_fee }
          : { event: 'order_reply_mismatch', source, out_trade_no: no, error: err.message },
      )
      return { ok: false, failure: err.failure }
    }
    if (state === 'SUCCESS' || state === 'REFUND') {
      const found = readPayment({ ...reply, trade_state: 'SUCCESS' })
      if (!found.ok) return { ok: false, failure: { kind: 'upstream', message: `${source}: ${found.reason}` } }
      const accepted = await this.accept(found.payment, source)
      if (!accepted.ok) return { ok: false, failure: { kind: 'upstream', message: accepted.message } }
    }
    if (state) await this.store.apply({ kind: 'state', trade_state: state })
    return { ok: true, value: undefined }
  }

  /** Reconciles a verified payment with the record and records it; the first transaction_id is the only one. */
  async accept(payment: Payment, source: string): Promise<Outcome> {
    const { store } = this
    const no = payment.out_trade_no
    if (!store.record)
      return { ok: false, reason: 'unknown_order', message: 'order unknown', detail: { out_trade_no: no } }
    const recorded = store.record.total_fee
    const applied = await store.apply({ kind: 'paid', payment }, (tasks) => {
      // Stored with the payment itself: until the shop has it, a relay retry is always scheduled,
      // and a paid order no longer checks itself.
      if (!store.record?.relayed_at) scheduleRelay(tasks, PAYMENT)
      delete tasks.check
    })
    if (!applied.ok) {
      if (applied.refusal === 'transaction_mismatch') {
        return {
          ok: false,
          reason: 'transaction_mismatch',
          message: 'transaction_id does not match the order',
          detail: { out_trade_no: no, source },
        }
      }
      return {
        ok: false,
        reason: 'amount_mismatch',
        message: 'total_fee does not match the order',
        detail: { out_trade_no: no, source, notified: payment.total_fee, recorded },
      }
    }
    if (applied.changed)
      log('info', { event: 'payment_recorded', out_trade_no: no, source, transaction_id: payment.transaction_id })
    return { ok: true, duplicate: !applied.changed }
  }

  /** The alarm's self-check: asks WeChat about an unsettled order and relays a payment it finds. */
  async selfCheck(config: Config): Promise<void> {
    const { store } = this
    const task = store.tasks.check
    const record = store.record
    if (!task || !record) return
    if (isSettled(record.trade_state)) {
      delete store.tasks.check
      return
    }
    const no = record.out_trade_no
    let found = 'error'
    try {
      const asked = { out_trade_no: no, appid: this.upstream.appidOf(record, config) }
      const reply = await this.upstream.client(config).call('/pay/orderquery', asked)
      found = reply.trade_state ?? 'no trade_state'
      const learned = await this.learn(record, reply, 'self_check')
      if (!learned.ok) found = `refused: ${learned.failure.message}`
      else if (store.record?.payment && !store.record.relayed_at) {
        const relayed = await this.relays.deliver(PAYMENT)
        found += relayed.ok ? ', relayed' : ', relay failed (retry scheduled)'
      }
    } catch (err) {
      found = checkError(err)
    }
    const settled = store.record ? isSettled(store.record.trade_state) : true
    const next = { ...task, k: task.k + 1 }
    if (settled || next.k >= config.recoverySchedule.length) delete store.tasks.check
    else store.tasks.check = next
    log('info', { event: 'self_check', out_trade_no: no, check: task.k + 1, found, settled })
  }
}
