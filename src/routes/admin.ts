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
  const ledger = ledgerOf(c.env, out_trade_no)
  const result = out_refund_no
    ? await ledger.redeliverRefund(out_trade_no, out_refund_no)
    : await ledger.redeliver(out_trade_no)
  return c.json({ data: unwrap(result) })
})
