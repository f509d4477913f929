/**
 * @module
 * A verified payment whose order record is not visible here yet (KV takes up to a minute to reach
 * other locations). It is confirmed with orderquery and kept under `unmatched:<out_trade_no>` —
 * never under `order:`, where a partial record could overwrite the real one still on its way.
 * WeChat is told to retry; a later delivery finds the record and relays.
 */
import { PayError } from '../errors'
import type { Client } from '../wechat/client'
import { amount } from '../wechat/order'

const KEEP_SECONDS = 7 * 24 * 3600

export const unmatchedKey = (outTradeNo: string) => `unmatched:${outTradeNo}`

export type Confirmation = { confirmed: true } | { confirmed: false; reason: string }

export async function confirmUnmatched(
  kv: KVNamespace,
  wechat: Client,
  payment: { out_trade_no: string; transaction_id: string; total_fee: number },
): Promise<Confirmation> {
  let reply: Record<string, string>
  try {
    reply = await wechat.call('/pay/orderquery', {
      out_trade_no: payment.out_trade_no,
      transaction_id: payment.transaction_id,
    })
  } catch (err) {
    if (err instanceof PayError)
      return {
        confirmed: false,
        reason: `orderquery: ${err.failure.kind === 'wechat' ? err.failure.errCode : err.failure.kind}`,
      }
    throw err
  }
  const confirmed =
    reply.trade_state === 'SUCCESS' &&
    reply.out_trade_no === payment.out_trade_no &&
    reply.transaction_id === payment.transaction_id &&
    amount(reply.total_fee) === payment.total_fee
  if (!confirmed)
    return { confirmed: false, reason: `orderquery reports ${reply.trade_state ?? 'no state'} or other values` }
  await kv.put(
    unmatchedKey(payment.out_trade_no),
    JSON.stringify({
      v: 1,
      ...payment,
      trade_state: 'SUCCESS',
      time_end: reply.time_end,
      confirmed_at: new Date().toISOString(),
    }),
    { expirationTtl: KEEP_SECONDS },
  )
  return { confirmed: true }
}
