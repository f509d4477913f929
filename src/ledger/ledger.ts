/**
 * @module
 * OrderLedger: one Durable Object per order (`idFromName(out_trade_no)`), the only place an
 * order's state changes. Every transition is decided here on the stored state, one call at a time.
 * While a call awaits WeChat or the shop, other calls are let in, so work in flight is explicit
 * state: `placing` (one unifiedorder shared by identical placements), refunds stored as
 * REQUESTING before WeChat is asked (their money is held), and `relaying` (one relay at a time per
 * payment or refund). After each change the record's snapshot goes to KV, at most once a second.
 */
import { DurableObject } from 'cloudflare:workers'
import { type Config, loadConfig } from '../config'
import { type Failure, PayError } from '../errors'
import { type RelayEvent, type RelayResult, relay } from '../relay'
import { type Client, createClient } from '../wechat/client'
import { amount } from '../wechat/order'
import { paymentOf } from '../wechat/payment'
import {
  RETRYABLE_REFUND_ERRORS,
  type RefundQuery,
  type RefundRecord,
  refundFields,
  refundQueryOf,
} from '../wechat/refund'
import type { Fields } from '../wechat/xml'
import {
  adopt,
  isFinalRefund,
  isPaid,
  isSettled,
  merge,
  type OrderRecord,
  OrderRecordV1,
  type OrderUpdate,
  type Payment,
  type Refund,
  tradeState,
} from './record'
import { learnRefund, refundEvent, refuseNewRefund } from './refunds'
import { keys, syncIndexes, writeSnapshot } from './snapshot'
import { dueTimes, nextAlarm, type Schedules, type Tasks } from './tasks'

/** An RPC answer: errors do not keep their type across RPC, so failures travel as data. */
export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure }

/** A placement as the route prepared it: the unifiedorder fields and what the record keeps. */
export type PlaceRequest = {
  out_trade_no: string
  /** Sent to /pay/unifiedorder as they are (the client adds appid, mch_id, nonce_str, sign). */
  fields: Record<string, string>
  /** The order's fingerprint first; then any older form a record from before may carry. */
  fingerprints: string[]
  record: Pick<OrderRecord, 'trade_type' | 'body' | 'total_fee' | 'openid' | 'attach' | 'notify_url'>
  /** How long the prepay_id WeChat returns stays usable (ms). */
  validityMs: number
}

/** A refund as the route prepared it. */
export type RefundRequest = {
  out_trade_no: string
  out_refund_no: string
  refund_fee: number
  refund_desc?: string
  /** Where the refund's result is relayed; the order's notify_url when absent. */
  notify_url?: string
  /** Where WeChat sends the refund notification: this service's /v1/pay/notify/refund. */
  wechat_notify_url: string
}

/** What /v1/pay/refund answers. */
export type RefundAnswer = {
  out_trade_no: string
  out_refund_no: string
  refund_id: string
  refund_fee: number
  total_fee: number
  refund_status: string
}

/** Why a notification was not taken; each is logged, and WeChat is told to retry (FAIL). */
export type Refusal =
  | 'internal'
  | 'unknown_order'
  | 'unknown_refund'
  | 'amount_mismatch'
  | 'transaction_mismatch'
  | 'not_confirmed'
  | 'relay_failed'

export type Outcome =
  | { ok: true; duplicate: boolean; status?: number }
  | { ok: false; reason: Refusal; message: string; detail?: Record<string, string | number> }

const PAYMENT = 'payment'
const refundKey = (outRefundNo: string) => `refund:${outRefundNo}`

// A prepay_id is reused while it has more than this left.
const REUSE_MARGIN_MS = 60_000
const SNAPSHOT_INTERVAL_MS = 1000

export class OrderLedger extends DurableObject<Env> {
  private record: OrderRecord | null | undefined
  private tasks: Tasks = {}
  private placing: { fingerprint: string; done: Promise<Result<OrderRecord>> } | undefined
  private refunding = new Map<string, Promise<Result<RefundAnswer>>>()
  private relaying = new Map<string, Promise<Outcome>>()
  private snapshotAt = 0
  private snapshotVersion = 0
  private version = 0

  // ---- RPC: reading ----------------------------------------------------------------------------

  /** The record, or `null` when this service has none for the order. */
  async get(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    return this.open(outTradeNo)
  }

  // ---- RPC: placing ----------------------------------------------------------------------------

  /**
   * Places the order with WeChat once. Identical placements share one unifiedorder call; another
   * fingerprint is OUT_TRADE_NO_USED without reaching WeChat; a paid or closed order is refused.
   */
  async place(request: PlaceRequest): Promise<Result<OrderRecord>> {
    const opened = await this.open(request.out_trade_no)
    if (!opened.ok) return opened
    const existing = opened.value
    const no = request.out_trade_no
    if (this.placing) {
      if (request.fingerprints.includes(this.placing.fingerprint)) return this.placing.done
      return wechat('OUT_TRADE_NO_USED', `out_trade_no ${no} was already used with other parameters`)
    }
    if (existing) {
      if (!request.fingerprints.includes(existing.fingerprint))
        return wechat('OUT_TRADE_NO_USED', `out_trade_no ${no} was already used with other parameters`)
      if (isPaid(existing.trade_state)) return wechat('ORDERPAID', `order ${no} is already paid`)
      if (isSettled(existing.trade_state))
        return wechat('ORDERCLOSED', `order ${no} is closed: place a new order with a new out_trade_no`)
      if (existing.prepay_id && Date.parse(existing.prepay_expires_at ?? '') - Date.now() > REUSE_MARGIN_MS)
        return { ok: true, value: existing }
    }
    const fingerprint = existing?.fingerprint ?? (request.fingerprints[0] as string)
    const done = this.unifiedOrder(request, fingerprint)
    this.placing = { fingerprint, done }
    try {
      return await done
    } finally {
      this.placing = undefined
    }
  }

  // ---- RPC: learning ---------------------------------------------------------------------------

  /**
   * What a verified orderquery reply says about the order: a payment is recorded and relayed
   * (in the background) exactly as a notified one; any other state moves the record forward.
   * `null` when this service has no record of the order.
   */
  async learnQuery(outTradeNo: string, reply: Fields): Promise<Result<OrderRecord | null>> {
    const opened = await this.open(outTradeNo)
    if (!opened.ok || !opened.value) return opened
    const record = opened.value
    const learned = await this.learn(record, reply, 'orderquery')
    if (!learned.ok) return learned
    // A payment found by a query reaches the shop like a notified one, without holding up the query.
    if (this.record?.payment && !this.record.relayed_at) this.ctx.waitUntil(this.deliver(PAYMENT))
    return { ok: true, value: this.record ?? null }
  }

  /** WeChat closed the order (closeorder SUCCESS). A payment recorded meanwhile outranks it. */
  async learnClosed(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    const opened = await this.open(outTradeNo)
    if (!opened.ok || !opened.value) return opened
    await this.update({ trade_state: 'CLOSED' })
    return { ok: true, value: this.record ?? null }
  }

  /**
   * A verified payment notification: reconcile, record, relay once. Resolves when the shop has the
   * payment (or already had it); a notification arriving while a relay is in flight waits for it.
   */
  async notifyPayment(payment: Payment): Promise<Outcome> {
    const opened = await this.open(payment.out_trade_no)
    if (!opened.ok) return unreadable(payment.out_trade_no)
    const accepted = await this.acceptPayment(payment, 'notification')
    if (!accepted.ok) return accepted
    return this.deliver(PAYMENT)
  }

  /** What a verified refundquery reply says; refunds reaching a final state are relayed in the background. */
  async learnRefunds(outTradeNo: string, reply: Fields): Promise<Result<OrderRecord | null>> {
    const opened = await this.open(outTradeNo)
    if (!opened.ok || !opened.value) return opened
    let query: RefundQuery
    try {
      query = refundQueryOf(reply)
    } catch (err) {
      return failure(err)
    }
    const mismatch = await this.reconcileRefunds(query, 'refundquery')
    if (mismatch) return { ok: false, failure: mismatch }
    for (const refund of this.record?.refunds ?? []) {
      if (isFinalRefund(refund.refund_status) && !refund.relayed_at)
        this.ctx.waitUntil(this.deliver(refundKey(refund.out_refund_no)))
    }
    return { ok: true, value: this.record ?? null }
  }

  /**
   * A decrypted refund notification — unsigned, so only a hint: the refund's state is confirmed
   * with refundquery (a signed reply) before anything is recorded, then relayed once.
   */
  async notifyRefund(notice: { out_trade_no: string; out_refund_no: string; refund_status: string }): Promise<Outcome> {
    const opened = await this.open(notice.out_trade_no)
    if (!opened.ok) return unreadable(notice.out_trade_no)
    const record = opened.value
    const detail = { out_trade_no: notice.out_trade_no, out_refund_no: notice.out_refund_no }
    if (!record) return { ok: false, reason: 'unknown_order', message: 'order unknown', detail }
    const known = record.refunds?.find((refund) => refund.out_refund_no === notice.out_refund_no)
    if (!known) return { ok: false, reason: 'unknown_refund', message: 'refund unknown', detail }
    if (!isFinalRefund(known.refund_status)) {
      try {
        const reply = await this.client().call('/pay/refundquery', { out_refund_no: notice.out_refund_no })
        const mismatch = await this.reconcileRefunds(refundQueryOf(reply), 'refund_notification')
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
    const confirmed = this.refund(notice.out_refund_no)
    if (!confirmed || !isFinalRefund(confirmed.refund_status) || confirmed.refund_status !== notice.refund_status) {
      return {
        ok: false,
        reason: 'not_confirmed',
        message: 'refund state not confirmed',
        detail: { ...detail, notified: notice.refund_status, confirmed: confirmed?.refund_status ?? 'none' },
      }
    }
    return this.deliver(refundKey(notice.out_refund_no))
  }

  // ---- RPC: refunds ----------------------------------------------------------------------------

  /**
   * Asks WeChat to refund, once per out_refund_no. The refund is stored as REQUESTING (holding its
   * money) before WeChat is asked, so concurrent refunds can never add up past what was paid.
   */
  async requestRefund(request: RefundRequest): Promise<Result<RefundAnswer>> {
    const opened = await this.open(request.out_trade_no)
    if (!opened.ok) return opened
    const record = opened.value
    const no = request.out_trade_no
    if (!record) return { ok: false, failure: { kind: 'noRecord', message: `no record of order ${no}` } }
    const notifyUrl = request.notify_url ?? record.notify_url
    const fingerprint = JSON.stringify([request.refund_fee, request.refund_desc ?? '', notifyUrl])
    const existing = this.refund(request.out_refund_no)
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
      this.record = { ...record, refunds: [...(record.refunds ?? []), refund], updated_at: now }
      this.tasks.refunds = { ...this.tasks.refunds, [refund.out_refund_no]: { since: Date.now(), k: 0 } }
      await this.changed()
    }
    const done = this.askRefund(request)
    this.refunding.set(request.out_refund_no, done)
    try {
      return await done
    } finally {
      this.refunding.delete(request.out_refund_no)
    }
  }

  // ---- RPC: operating --------------------------------------------------------------------------

  /**
   * Relays the payment (or a refund's final state) again now, even if the shop had it (a shop that
   * lost its data). Joins a relay already in flight rather than start a second one.
   */
  async redeliver(outTradeNo: string, outRefundNo?: string): Promise<Result<RelayResult>> {
    const opened = await this.open(outTradeNo)
    if (!opened.ok) return opened
    const record = opened.value
    if (!record) return { ok: false, failure: { kind: 'noRecord', message: `no record of order ${outTradeNo}` } }
    let key = PAYMENT
    if (outRefundNo === undefined) {
      if (!record.payment)
        return { ok: false, failure: { kind: 'notPaid', message: `order ${outTradeNo} is not paid: nothing to relay` } }
    } else {
      const refund = this.refund(outRefundNo)
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

  /** Runs every task due (the earliest one even if the clock says it is a little early). */
  override async alarm(): Promise<void> {
    const stored = await this.ctx.storage.get<OrderRecord>('record')
    if (!stored) return
    await this.load(stored.out_trade_no)
    const config = this.config()
    const due = dueTimes(this.tasks, schedules(config))
    const horizon = Math.max(Date.now(), due[0]?.at ?? 0)
    for (const { due: task, at } of due) {
      if (at > horizon) break
      try {
        if (task.task === 'snapshot') await this.flushSnapshot()
        else if (task.task === 'relay') await this.retryRelay(task.key, config)
        else if (task.task === 'check') await this.selfCheck(config)
        else await this.checkRefund(task.outRefundNo, config)
      } catch (err) {
        log('error', {
          event: 'ledger_task_failed',
          out_trade_no: stored.out_trade_no,
          task: task.task,
          error: name(err),
        })
      }
    }
    await this.persist()
  }

  // ---- placing ---------------------------------------------------------------------------------

  private async unifiedOrder(request: PlaceRequest, fingerprint: string): Promise<Result<OrderRecord>> {
    let reply: Fields
    try {
      reply = await this.client().call('/pay/unifiedorder', request.fields)
    } catch (err) {
      return failure(err)
    }
    if (!reply.prepay_id)
      return { ok: false, failure: { kind: 'upstream', message: 'the unifiedorder reply has no prepay_id' } }
    const now = new Date()
    const placed = {
      prepay_id: reply.prepay_id,
      prepay_expires_at: new Date(now.getTime() + request.validityMs).toISOString(),
      code_url: reply.code_url,
      mweb_url: reply.mweb_url,
    }
    const current = this.record
    if (current) {
      // A re-placement after the prepay_id expired: only the prepay changes.
      this.record = { ...current, ...placed, updated_at: now.toISOString() }
    } else {
      this.record = {
        v: 2,
        out_trade_no: request.out_trade_no,
        ...request.record,
        fingerprint,
        trade_state: 'NOTPAY',
        ...placed,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      }
      this.tasks.check = { since: now.getTime(), k: 0 }
    }
    await this.changed()
    return { ok: true, value: this.record }
  }

  // ---- learning --------------------------------------------------------------------------------

  private async learn(record: OrderRecord, reply: Fields, source: string): Promise<Result<void>> {
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
      const accepted = await this.acceptPayment(found.payment, source)
      if (!accepted.ok) return { ok: false, failure: { kind: 'upstream', message: accepted.message } }
      if (state === 'REFUND') await this.update({ trade_state: 'REFUND' })
      return { ok: true, value: undefined }
    }
    if (state) await this.update({ trade_state: state })
    return { ok: true, value: undefined }
  }

  /** Reconciles a verified payment with the record and records it; the first transaction_id is the only one. */
  private async acceptPayment(payment: Payment, source: string): Promise<Outcome> {
    const record = this.record
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
    await this.update({
      trade_state: 'SUCCESS',
      transaction_id: payment.transaction_id,
      time_end: payment.time_end,
      cash_fee: payment.cash_fee,
      bank_type: payment.bank_type,
      openid: payment.openid || undefined,
      payment,
    })
    if (first) {
      log('info', { event: 'payment_recorded', out_trade_no: no, source, transaction_id: payment.transaction_id })
      // Until the shop has it, a relay retry is always scheduled: nothing is left to memory alone.
      if (!this.record?.relayed_at) this.scheduleRelay(PAYMENT)
      delete this.tasks.check
      await this.persist()
    }
    return { ok: true, duplicate: !first }
  }

  /** Moves the stored refunds forward with a verified refundquery; an amount WeChat disagrees on is refused. */
  private async reconcileRefunds(query: RefundQuery, source: string): Promise<Failure | undefined> {
    const record = this.record
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
      if (isFinalRefund(learned.refund_status) && !isFinalRefund(known?.refund_status ?? 'REQUESTING')) {
        log('info', {
          event: 'refund_settled',
          source,
          out_trade_no: record.out_trade_no,
          out_refund_no: learned.out_refund_no,
          refund_status: learned.refund_status,
        })
        this.tasks.refunds = { ...this.tasks.refunds }
        delete this.tasks.refunds[learned.out_refund_no]
        this.scheduleRelay(refundKey(learned.out_refund_no))
      }
    }
    if (JSON.stringify(refunds) === JSON.stringify(record.refunds ?? [])) return undefined
    const refundedAny = refunds.some((refund) => refund.refund_status === 'SUCCESS')
    this.record = {
      ...record,
      refunds,
      ...(refundedAny && isPaid(record.trade_state) && { trade_state: 'REFUND' as const }),
      updated_at: now,
    }
    await this.changed()
    return undefined
  }

  // ---- refunds ---------------------------------------------------------------------------------

  private async askRefund(request: RefundRequest): Promise<Result<RefundAnswer>> {
    const record = this.record as OrderRecord
    const refund = this.refund(request.out_refund_no) as Refund
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
      reply = await this.client().call('/secapi/pay/refund', fields)
    } catch (err) {
      if (!(err instanceof PayError)) throw err
      const f = err.failure
      // Unknown whether WeChat took it (no answer, or "try again"): the refund stays held and
      // asking again with the same out_refund_no is safe. Any other answer is a no for good.
      const unknown =
        f.kind === 'upstream' || f.kind === 'timeout' || (f.kind === 'wechat' && RETRYABLE_REFUND_ERRORS.has(f.errCode))
      if (!unknown) await this.dropRefund(refund.out_refund_no)
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
    this.replaceRefund(refund.out_refund_no, (current) => ({
      ...current,
      refund_id: refundId,
      refund_status: current.refund_status === 'REQUESTING' ? 'PROCESSING' : current.refund_status,
      updated_at: new Date().toISOString(),
    }))
    await this.changed()
    log('info', {
      event: 'refund_requested',
      out_trade_no: record.out_trade_no,
      out_refund_no: refund.out_refund_no,
      refund_fee: refund.refund_fee,
    })
    return { ok: true, value: answer(this.record as OrderRecord, this.refund(refund.out_refund_no) as Refund) }
  }

  private async dropRefund(outRefundNo: string): Promise<void> {
    const record = this.record as OrderRecord
    this.record = { ...record, refunds: (record.refunds ?? []).filter((r) => r.out_refund_no !== outRefundNo) }
    if (this.tasks.refunds) delete this.tasks.refunds[outRefundNo]
    await this.changed()
  }

  private async checkRefund(outRefundNo: string, config: Config): Promise<void> {
    const task = this.tasks.refunds?.[outRefundNo]
    const refund = this.refund(outRefundNo)
    if (!task || !refund || isFinalRefund(refund.refund_status)) {
      if (this.tasks.refunds) delete this.tasks.refunds[outRefundNo]
      return
    }
    let found = 'error'
    try {
      const reply = await this.client(config).call('/pay/refundquery', { out_refund_no: outRefundNo })
      const mismatch = await this.reconcileRefunds(refundQueryOf(reply), 'self_check')
      found = mismatch ? `refused: ${mismatch.message}` : (this.refund(outRefundNo)?.refund_status ?? 'none')
    } catch (err) {
      found =
        err instanceof PayError
          ? `${err.failure.kind === 'wechat' ? err.failure.errCode : err.failure.kind}`
          : name(err)
    }
    const settled = isFinalRefund(this.refund(outRefundNo)?.refund_status ?? 'REQUESTING')
    if (settled) await this.deliver(refundKey(outRefundNo))
    const next = { ...task, k: task.k + 1 }
    this.tasks.refunds = { ...this.tasks.refunds }
    if (settled || next.k >= config.refundCheckSchedule.length) delete this.tasks.refunds[outRefundNo]
    else this.tasks.refunds[outRefundNo] = next
    log('info', {
      event: 'refund_check',
      out_trade_no: this.record?.out_trade_no,
      out_refund_no: outRefundNo,
      check: task.k + 1,
      found,
    })
  }

  private refund(outRefundNo: string): Refund | undefined {
    return this.record?.refunds?.find((refund) => refund.out_refund_no === outRefundNo)
  }

  private replaceRefund(outRefundNo: string, change: (refund: Refund) => Refund): void {
    const record = this.record as OrderRecord
    const refunds = (record.refunds ?? []).map((r) => (r.out_refund_no === outRefundNo ? change(r) : r))
    this.record = { ...record, refunds, updated_at: new Date().toISOString() }
  }

  // ---- relaying --------------------------------------------------------------------------------

  /**
   * Relays the payment or a refund unless the shop has it (or `again`); never two relays in flight
   * for the same thing: a caller arriving meanwhile shares the outcome.
   */
  private deliver(key: string, { again = false } = {}): Promise<Outcome> {
    const target = this.relayTarget(key)
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

  private relayTarget(key: string): { url: string; event: RelayEvent; state: Refund | OrderRecord } | undefined {
    const record = this.record
    if (!record) return undefined
    if (key === PAYMENT) {
      return (
        record.payment && { url: record.notify_url, event: { type: 'payment', data: record.payment }, state: record }
      )
    }
    const refund = this.refund(key.slice('refund:'.length))
    if (!refund || !isFinalRefund(refund.refund_status)) return undefined
    return { url: refund.notify_url, event: { type: 'refund', data: refundEvent(record, refund) }, state: refund }
  }

  private async relayOnce(key: string): Promise<Outcome> {
    const target = this.relayTarget(key) as NonNullable<ReturnType<OrderLedger['relayTarget']>>
    const config = this.config()
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
      const record = this.record as OrderRecord
      this.record = { ...record, ...change(record), updated_at: now }
    } else {
      this.replaceRefund(key.slice('refund:'.length), (refund) => ({ ...refund, ...change(refund), updated_at: now }))
    }
    if (result.delivered) {
      if (this.tasks.relays) delete this.tasks.relays[key]
    } else {
      this.scheduleRelay(key)
    }
    await this.changed()
    if (result.delivered) return { ok: true, duplicate: false, status: result.status }
    return {
      ok: false,
      reason: 'relay_failed',
      message: 'merchant backend unavailable',
      detail: { out_trade_no: this.record?.out_trade_no ?? '', relay: key, error: result.reason },
    }
  }

  private scheduleRelay(key: string): void {
    const relays = { ...this.tasks.relays }
    relays[key] ??= { since: Date.now(), k: 0 }
    this.tasks.relays = relays
  }

  private async retryRelay(key: string, config: Config): Promise<void> {
    const task = this.tasks.relays?.[key]
    if (!task) return
    const outcome = await this.deliver(key)
    const no = this.record?.out_trade_no
    log('info', { event: 'relay_retry', out_trade_no: no, relay: key, attempt: task.k + 1, delivered: outcome.ok })
    if (outcome.ok || !this.tasks.relays?.[key]) return
    const next = { ...task, k: task.k + 1 }
    this.tasks.relays = { ...this.tasks.relays, [key]: next }
    if (next.k < config.relayRetrySchedule.length) return
    delete this.tasks.relays[key]
    const now = new Date().toISOString()
    let error: string | undefined
    if (key === PAYMENT) {
      const record = this.record as OrderRecord
      this.record = { ...record, relay_failed_at: now, updated_at: now }
      error = record.relay_error
    } else {
      this.replaceRefund(key.slice('refund:'.length), (refund) => {
        error = refund.relay_error
        return { ...refund, relay_failed_at: now, updated_at: now }
      })
    }
    log('error', { event: 'relay_schedule_spent', out_trade_no: no, relay: key, attempts: next.k, error })
    await this.changed()
  }

  // ---- self-checks -----------------------------------------------------------------------------

  private async selfCheck(config: Config): Promise<void> {
    const task = this.tasks.check
    const record = this.record
    if (!task || !record) return
    if (isSettled(record.trade_state)) {
      delete this.tasks.check
      return
    }
    const no = record.out_trade_no
    let found = 'error'
    try {
      const reply = await this.client(config).call('/pay/orderquery', { out_trade_no: no })
      found = reply.trade_state ?? 'no trade_state'
      const learned = await this.learn(record, reply, 'self_check')
      if (!learned.ok) found = `refused: ${learned.failure.message}`
      else if (this.record?.payment && !this.record.relayed_at) {
        const relayed = await this.deliver(PAYMENT)
        found += relayed.ok ? ', relayed' : ', relay failed (retry scheduled)'
      }
    } catch (err) {
      found =
        err instanceof PayError
          ? `${err.failure.kind === 'wechat' ? err.failure.errCode : err.failure.kind}`
          : name(err)
    }
    const settled = this.record ? isSettled(this.record.trade_state) : true
    const next = { ...task, k: task.k + 1 }
    if (settled || next.k >= config.recoverySchedule.length) delete this.tasks.check
    else this.tasks.check = next
    log('info', { event: 'self_check', out_trade_no: no, check: task.k + 1, found, settled })
  }

  // ---- storage ---------------------------------------------------------------------------------

  /**
   * The record, loaded once per instance (on first use adopting a v1 record from KV, see
   * README "Storage"), or the failure that stops every call: a v1 record that does not parse.
   */
  private async open(outTradeNo: string): Promise<Result<OrderRecord | null>> {
    const record = await this.load(outTradeNo)
    if (this.record === undefined) {
      return {
        ok: false,
        failure: { kind: 'internal', message: `the KV record of order ${outTradeNo} is not a v1 record` },
      }
    }
    return { ok: true, value: record }
  }

  /** Loads the record once per instance; on first use, adopts a v1 record from KV (earlier deployments). */
  private async load(outTradeNo: string): Promise<OrderRecord | null> {
    if (this.record !== undefined) return this.record
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.record !== undefined) return
      const [record, tasks] = await Promise.all([
        this.ctx.storage.get<OrderRecord>('record'),
        this.ctx.storage.get<Tasks>('tasks'),
      ])
      this.tasks = tasks ?? {}
      if (record) {
        this.record = record
        return
      }
      const text = await this.env.ORDERS.get(keys.order(outTradeNo))
      const v1 = text === null ? undefined : OrderRecordV1.safeParse(parseJson(text))
      if (v1 && !v1.success) {
        // Never guessed at: the order stays unusable until an operator looks (README "Storage").
        log('error', { event: 'record_unreadable', out_trade_no: outTradeNo })
        return
      }
      if (v1?.success) {
        this.record = adopt(v1.data, new Date().toISOString())
        if (!isSettled(this.record.trade_state))
          this.tasks.check = { since: Date.parse(this.record.created_at) || Date.now(), k: 0 }
        if (this.record.payment && !this.record.relayed_at) this.scheduleRelay(PAYMENT)
        log('info', { event: 'record_adopted', out_trade_no: outTradeNo, trade_state: this.record.trade_state })
        await this.changed()
      } else {
        this.record = null
      }
    })
    return this.record ?? null
  }

  private async update(update: OrderUpdate): Promise<void> {
    if (!this.record) return
    const next = merge(this.record, update, new Date().toISOString())
    if (!next) return
    this.record = next
    await this.changed()
  }

  /** Stores the record and tasks, then writes the snapshot now or schedules it (1 write/s/key). */
  private async changed(): Promise<void> {
    this.version += 1
    const wait = this.snapshotAt + SNAPSHOT_INTERVAL_MS - Date.now()
    if (wait > 0) {
      this.tasks.snapshot ??= Date.now() + wait
      await this.persist()
      return
    }
    await this.persist()
    await this.flushSnapshot()
  }

  private async flushSnapshot(): Promise<void> {
    delete this.tasks.snapshot
    const record = this.record
    if (!record || this.snapshotVersion === this.version) return
    const version = this.version
    this.snapshotAt = Date.now()
    try {
      await writeSnapshot(this.env.ORDERS, record)
      const indexed = await syncIndexes(this.env.ORDERS, record, this.tasks.indexed ?? [])
      this.tasks.indexed = indexed
      this.snapshotVersion = Math.max(this.snapshotVersion, version)
    } catch (err) {
      log('warn', { event: 'snapshot_write_failed', out_trade_no: record.out_trade_no, error: name(err) })
    }
    // Changed while the write was in flight, or the write failed: once more, a second later.
    if (this.snapshotVersion !== this.version) this.tasks.snapshot = this.snapshotAt + SNAPSHOT_INTERVAL_MS
    await this.persist()
  }

  private async persist(): Promise<void> {
    const storage = this.ctx.storage
    if (this.record) await storage.put({ record: this.record, tasks: this.tasks })
    const at = nextAlarm(this.tasks, schedules(this.config()))
    if (at === null) await storage.deleteAlarm()
    else if ((await storage.getAlarm()) !== at) await storage.setAlarm(at)
  }

  private config(): Config {
    return loadConfig(this.env)
  }

  private client(config = this.config()): Client {
    const cert = this.env.WXPAY_CERT
    return createClient({ config, ...(cert && { certFetch: (url, init) => cert.fetch(url, init) }) })
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

function unreadable(outTradeNo: string): Outcome {
  return { ok: false, reason: 'internal', message: 'order record unreadable', detail: { out_trade_no: outTradeNo } }
}

function schedules(config: Config): Schedules {
  return { relay: config.relayRetrySchedule, check: config.recoverySchedule, refund: config.refundCheckSchedule }
}

function wechat(errCode: string, message: string): Result<never> {
  return { ok: false, failure: { kind: 'wechat', errCode, message } }
}

function failure(err: unknown): Result<never> {
  if (err instanceof PayError) return { ok: false, failure: err.failure }
  throw err
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function name(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown'
}

function log(level: 'info' | 'warn' | 'error', entry: Record<string, unknown>): void {
  console[level](JSON.stringify(entry))
}
