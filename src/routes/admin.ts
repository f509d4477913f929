/**
 * @module
 * Operating the money lifecycle: `/redeliver` relays a payment (or a refund) to the shop again now.
 */
import { Hono } from 'hono'
import { ledgerOf, unwrap } from '../ledger/stub'
import { input } from './input'
import { RedeliverInput } from './schemas'

export const admin = new Hono<{ Bindings: Env }>().post('/redeliver', input(RedeliverInput), async (c) => {
  const { out_trade_no, out_refund_no } = c.var.input
  return c.json({ data: unwrap(await ledgerOf(c.env, out_trade_no).redeliver(out_trade_no, out_refund_no)) })
})
