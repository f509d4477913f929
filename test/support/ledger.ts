/** Reading an order's ledger (the Durable Object) and its KV snapshot, as an operator would. */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import type { OrderRecord } from '../../src/ledger/record'

export function ledger(outTradeNo: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(outTradeNo))
}

/** The order as its ledger holds it: the truth, never stale. */
export async function ledgerRecord(outTradeNo: string): Promise<OrderRecord | null> {
  const result = await ledger(outTradeNo).get(outTradeNo)
  if (!result.ok) throw new Error(result.failure.message)
  return result.value
}

/** The KV snapshot of the order, and its list() metadata. */
export async function snapshot(outTradeNo: string) {
  const { value, metadata } = await env.ORDERS.getWithMetadata<Record<string, unknown>>(`order:${outTradeNo}`, 'json')
  return { value, metadata }
}

/** Runs the ledger's alarm now, as if its earliest task were due; false when none was scheduled. */
export function runAlarm(outTradeNo: string): Promise<boolean> {
  return runDurableObjectAlarm(ledger(outTradeNo))
}
