/**
 * @module
 * Order records in KV (`order:<out_trade_no>`, schema v1 in the README). KV has no compare-and-set
 * and allows one write per second per key, so every write is read → merge → write, where the merge
 * only moves forward: a state never goes back, a fact once learned is never replaced, the relay flag
 * never clears. A write that would change nothing is skipped.
 */
import * as z from 'zod/mini'
import { fail } from '../errors'

export const TRADE_STATES = [
  'NOTPAY',
  'USERPAYING',
  'ACCEPT',
  'PAYERROR',
  'CLOSED',
  'REVOKED',
  'SUCCESS',
  'REFUND',
] as const
export type TradeState = (typeof TRADE_STATES)[number]

// How far along an order is. A payment outranks a close: WeChat's signed word that money moved is
// the truth even if a close raced it (关单 ORDERPAID race, reference §5); a refund follows a payment.
const RANK: Record<TradeState, number> = {
  NOTPAY: 0,
  USERPAYING: 1,
  ACCEPT: 1,
  PAYERROR: 2,
  CLOSED: 3,
  REVOKED: 3,
  SUCCESS: 4,
  REFUND: 5,
}

const optionalString = z.optional(z.string())
const optionalInt = z.optional(z.int())

export const OrderRecord = z.object({
  v: z.literal(1),
  out_trade_no: z.string(),
  trade_type: z.string(),
  body: z.string(),
  total_fee: z.int(),
  openid: optionalString,
  attach: optionalString,
  notify_url: z.string(),
  fingerprint: z.string(),
  prepay_id: optionalString,
  prepay_expires_at: optionalString,
  code_url: optionalString,
  mweb_url: optionalString,
  trade_state: z.enum(TRADE_STATES),
  transaction_id: optionalString,
  time_end: optionalString,
  cash_fee: optionalInt,
  bank_type: optionalString,
  relayed_at: optionalString,
  created_at: z.string(),
  updated_at: z.string(),
})
export type OrderRecord = z.infer<typeof OrderRecord>

/** What a writer learned: a new order, a newer state, new facts, or a delivered relay. */
export type OrderUpdate = Partial<Omit<OrderRecord, 'v' | 'out_trade_no' | 'created_at' | 'updated_at'>>

export const orderKey = (outTradeNo: string) => `order:${outTradeNo}`

/** Reads and validates a record; a malformed one is an internal failure, never silently used. */
export async function getOrder(kv: KVNamespace, outTradeNo: string): Promise<OrderRecord | null> {
  const raw = await kv.get(orderKey(outTradeNo), 'json')
  if (raw === null) return null
  const parsed = OrderRecord.safeParse(raw)
  if (!parsed.success) throw fail('internal', `order record for ${outTradeNo} does not match schema v1`)
  return parsed.data
}

/** The forward-only merge. `null` when the update adds nothing to `current`. */
export function merge(current: OrderRecord, update: OrderUpdate, now: string): OrderRecord | null {
  const next: OrderRecord = { ...current }
  for (const [name, value] of Object.entries(update) as [keyof OrderUpdate, unknown][]) {
    if (value === undefined) continue
    if (name === 'trade_state') {
      if (RANK[value as TradeState] > RANK[current.trade_state]) next.trade_state = value as TradeState
    } else if (name === 'prepay_id' || name === 'prepay_expires_at' || name === 'code_url' || name === 'mweb_url') {
      // A re-placed order gets a new prepay_id; only a later expiry replaces the one we have.
      if (!current.prepay_expires_at || (update.prepay_expires_at ?? '') > current.prepay_expires_at) {
        Object.assign(next, { [name]: value })
      }
    } else if (current[name] === undefined) {
      Object.assign(next, { [name]: value })
    }
  }
  if (JSON.stringify(next) === JSON.stringify(current)) return null
  next.updated_at = now
  return next
}

export type SaveOptions = { now?: () => Date; sleep?: (ms: number) => Promise<void> }

/**
 * Merges `update` into the stored record (creating it from `initial` when absent) and writes it.
 * A failed put (KV answers 429 above one write a second per key) is retried after a second,
 * re-reading first so that nothing another writer stored in between is lost.
 */
export async function saveOrder(
  kv: KVNamespace,
  outTradeNo: string,
  update: OrderUpdate,
  initial: Omit<OrderRecord, 'v' | 'out_trade_no' | 'created_at' | 'updated_at'> | null,
  { now = () => new Date(), sleep = (ms) => new Promise((r) => setTimeout(r, ms)) }: SaveOptions = {},
): Promise<OrderRecord | null> {
  for (let attempt = 1; ; attempt++) {
    const stamp = now().toISOString()
    const current = await getOrder(kv, outTradeNo)
    const base =
      current ??
      (initial && { v: 1 as const, out_trade_no: outTradeNo, ...initial, created_at: stamp, updated_at: stamp })
    if (!base) return null
    const next = current ? merge(current, update, stamp) : (merge(base, update, stamp) ?? base)
    if (!next) return current
    try {
      await kv.put(orderKey(outTradeNo), JSON.stringify(next))
      return next
    } catch (err) {
      if (attempt >= 3) throw fail('internal', `order record for ${outTradeNo} could not be written`)
      console.warn(JSON.stringify({ event: 'kv_put_retry', out_trade_no: outTradeNo, attempt, error: String(err) }))
      await sleep(1100 * attempt)
    }
  }
}

/** A state WeChat reported, if it is one this service knows. */
export function tradeState(value: string | undefined): TradeState | undefined {
  return (TRADE_STATES as readonly string[]).includes(value ?? '') ? (value as TradeState) : undefined
}
