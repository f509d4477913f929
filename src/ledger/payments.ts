/**
 * @module
 * Learning that an order is paid (or closed, or refunded) from WeChat's signed word: a payment
 * notification, an orderquery reply, or the ledger's own self-check. A payment is reconciled with
 * the record, recorded once (the first transaction_id is the only one) and then relayed.
 */
import type { Config } from '../config'
import { amount } from '../wechat/order'
import { paymentOf } from '../wechat/payment'
import type { Fields } from '../wechat/xml'
import { checkError, log } from './log'
import { isSettled, type OrderRecord, type Payment, tradeState } from './record'
import type { Relays } from './relays'
import type { Outcome, Result } from './rpc'
import type { Store } from './store'
import { PAYMENT, scheduleRelay } from './tasks'

export class Payments {
  constructor(
    private readonly store: Store,
    private readonly relays: Relays,
  ) {}

  /** What a verified orderquery reply says: a payment is accepted; any other state moves the record forward. */
  async learn(record: OrderRecord, reply: Fields, source: string): Promise<Result<void>> {
    const no = record.out_trade_no
    const total = amount(reply.total_fee)
    // An unpaid order may be reported without total_fee; one that carries it must match the record.
    if (total !== undefined && total !== record.total_fee) {
      log('error', { event: 'amount_mismatch', source, out_trade_no: no, reported: total, recorded: record.total_fee })
      return {
        ok: false,
        failure: {
          kind: 'upstream',
          message: `WeChat reports total_fee ${total} for ${no}, the order was placed for ${record.total_fee}`,
        },
      }
    }
    const state = tradeState(reply.trade_state)
    if (state === 'SUCCESS' || state === 'REFUND') {
      const found = paymentOf({ ...reply, trade_state: 'SUCCESS' })
      if (!found.ok) return { ok: false, failure: { kind: 'upstream', message: `${source}: ${found.reason}` } }
      const accepted = await this.accept(found.payment, source)
      if (!accepted.ok) return { ok: false, failure: { kind: 'upstream', message: accepted.message } }
      if (state === 'REFUND') await this.store.update({ trade_state: 'REFUND' })
      return { ok: true, value: undefined }
    }
    if (state) await this.store.update({ trade_state: state })
    return { ok: true, value: undefined }
  }

  /** Reconciles a verified payment with the record and records it; the first transaction_id is the only one. */
  async accept(payment: Payment, source: string): Promise<Outcome> {
    const { store } = this
    const record = store.record
    const no = payment.out_trade_no
    if (!record) return { ok: false, reason: 'unknown_order', message: 'order unknown', detail: { out_trade_no: no } }
    if (payment.total_fee !== record.total_fee) {
      return {
        ok: false,
        reason: 'amount_mismatch',
        message: 'total_fee does not match the order',
        detail: { out_trade_no: no, source, notified: payment.total_fee, recorded: record.total_fee },
      }
    }
    if (record.transaction_id && record.transaction_id !== payment.transaction_id) {
      return {
        ok: false,
        reason: 'transaction_mismatch',
        message: 'transaction_id does not match the order',
        detail: { out_trade_no: no, source },
      }
    }
    const first = record.payment === undefined
    if (first) {
      // Stored with the payment itself: until the shop has it, a relay retry is always scheduled,
      // and a paid order no longer checks itself.
      if (!record.relayed_at) scheduleRelay(store.tasks, PAYMENT)
      delete store.tasks.check
    }
    await store.update({
      trade_state: 'SUCCESS',
      transaction_id: payment.transaction_id,
      time_end: payment.time_end,
      cash_fee: payment.cash_fee,
      bank_type: payment.bank_type,
      openid: payment.openid || undefined,
      payment,
    })
    if (first)
      log('info', { event: 'payment_recorded', out_trade_no: no, source, transaction_id: payment.transaction_id })
    return { ok: true, duplicate: !first }
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
      const reply = await store.client(config).call('/pay/orderquery', { out_trade_no: no })
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
