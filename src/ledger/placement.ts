/**
 * @module
 * Placing the order with WeChat (unifiedorder) once. Identical placements share one call; another
 * fingerprint is OUT_TRADE_NO_USED without reaching WeChat; a paid or closed order is refused; a
 * prepay_id (or a v3 NATIVE order's code_url) is reused while it is still usable.
 */
import type { Fields } from '../wechat/xml'
import { isPaid, isSettled, type OrderRecord } from './record'
import { failure, type PlaceRequest, type Result, wechat } from './rpc'
import type { Store } from './store'
import type { Upstream } from './upstream'

// A prepay_id is reused while it has more than this left.
const REUSE_MARGIN_MS = 60_000

export class Placement {
  /** The unifiedorder call in flight, for this instance, and the fingerprint it was made for. */
  private placing: { fingerprint: string; done: Promise<Result<OrderRecord>> } | undefined

  constructor(
    private readonly store: Store,
    private readonly upstream: Upstream,
  ) {}

  async place(existing: OrderRecord | null, request: PlaceRequest): Promise<Result<OrderRecord>> {
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
      if (
        (existing.prepay_id || existing.code_url) &&
        Date.parse(existing.prepay_expires_at ?? '') - Date.now() > REUSE_MARGIN_MS
      )
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

  private async unifiedOrder(request: PlaceRequest, fingerprint: string): Promise<Result<OrderRecord>> {
    const { store } = this
    let reply: Fields
    try {
      reply = await this.upstream.client().call('/pay/unifiedorder', request.fields)
    } catch (err) {
      return failure(err)
    }
    // v3 answers a NATIVE order with code_url alone (v3 reference §6.3): it stands for the prepay.
    if (!reply.prepay_id && !reply.code_url)
      return {
        ok: false,
        failure: { kind: 'upstream', message: 'the unifiedorder reply has no prepay_id or code_url' },
      }
    const now = new Date()
    const placed = {
      prepay_id: reply.prepay_id,
      prepay_expires_at: new Date(now.getTime() + request.validityMs).toISOString(),
      code_url: reply.code_url,
      mweb_url: reply.mweb_url,
    }
    const current = store.record
    // Paid or closed while WeChat was asked (a re-placement racing the payment): no new prepay.
    if (current && isSettled(current.trade_state)) {
      const paid = isPaid(current.trade_state)
      return wechat(
        paid ? 'ORDERPAID' : 'ORDERCLOSED',
        `order ${current.out_trade_no} is ${paid ? 'already paid' : 'closed'}`,
      )
    }
    // A re-placement after the prepay_id expired changes only the prepay.
    const applied = current
      ? await store.apply({ kind: 'prepay', prepay: placed })
      : await store.apply(
          {
            kind: 'placed',
            record: {
              v: 2,
              out_trade_no: request.out_trade_no,
              ...request.record,
              fingerprint,
              trade_state: 'NOTPAY',
              ...placed,
              created_at: now.toISOString(),
              updated_at: now.toISOString(),
            },
          },
          (tasks) => {
            tasks.check = { since: now.getTime(), k: 0 }
          },
        )
    if (!applied.ok) return { ok: false, failure: { kind: 'internal', message: applied.message } }
    return { ok: true, value: applied.record }
  }
}
