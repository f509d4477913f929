/**
 * @module
 * RefundNumber: one Durable Object per out_refund_no (`idFromName(out_refund_no)`). WeChat keeps
 * out_refund_no unique per merchant, while each OrderLedger only sees its own order's refunds; this
 * object is the single writer that gives a number to the first order that asks for it, so the same
 * number on another order is refused here (`OUT_REFUND_NO_USED`) before WeChat is asked.
 */
import { DurableObject } from 'cloudflare:workers'
import { wechatError } from '../errors'

/** What a claim answers: the order that holds the number, and whether that is the asking order. */
export type Claim = { ok: true } | { ok: false; holder: string }

export class RefundNumber extends DurableObject<Env> {
  /**
   * Gives the number to `outTradeNo` unless another order holds it. A claim is never released:
   * once an order has used a number, WeChat may know it, so no other order can be sure of it again.
   */
  async claim(outTradeNo: string): Promise<Claim> {
    // Synchronous storage: nothing else runs between the read and the write.
    const holder = this.ctx.storage.kv.get<string>('out_trade_no')
    if (holder === undefined) {
      this.ctx.storage.kv.put('out_trade_no', outTradeNo)
      return { ok: true }
    }
    return holder === outTradeNo ? { ok: true } : { ok: false, holder }
  }

  /** The order that holds the number, if one claimed it here. */
  async holder(): Promise<string | null> {
    return this.ctx.storage.kv.get<string>('out_trade_no') ?? null
  }
}

/** The order a refund number was claimed for here, or `null` (a refund made elsewhere, or none). */
export function refundHolder(env: Env, outRefundNo: string): Promise<string | null> {
  return env.REFUND_NUMBERS.get(env.REFUND_NUMBERS.idFromName(outRefundNo)).holder()
}

/**
 * Claims `outRefundNo` for `outTradeNo` merchant-wide.
 * @throws {PayError} `OUT_REFUND_NO_USED` (409) naming the order that holds the number.
 */
export async function claimRefundNumber(env: Env, outRefundNo: string, outTradeNo: string): Promise<void> {
  const claim = await env.REFUND_NUMBERS.get(env.REFUND_NUMBERS.idFromName(outRefundNo)).claim(outTradeNo)
  if (!claim.ok) {
    throw wechatError(
      'OUT_REFUND_NO_USED',
      `out_refund_no ${outRefundNo} is already used by order ${claim.holder}: out_refund_no is unique per merchant`,
    )
  }
}
