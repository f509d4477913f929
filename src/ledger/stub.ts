/**
 * @module
 * How routes reach an order's ledger: one Durable Object per out_trade_no, called over RPC.
 */
import { PayError } from '../errors'
import type { Result } from './ledger'

/** The ledger of `outTradeNo` (created on first use). */
export function ledgerOf(env: Env, outTradeNo: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(outTradeNo))
}

/** The value of a ledger answer, or its failure thrown as the PayError it was. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new PayError(result.failure)
  return result.value
}
