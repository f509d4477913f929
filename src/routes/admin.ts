/**
 * @module
 * Operating the money lifecycle: `/redeliver` relays a payment (or a refund) to the shop again now;
 * `/reconciliation` reads (or runs) the daily bill's reconciliation report.
 */
import { Hono } from 'hono'
import { keys } from '../ledger/snapshot'
import { ledgerOf, unwrap } from '../ledger/stub'
import { type Report, reconcile } from '../reconcile'
import { input } from './input'
import { ReconciliationInput, RedeliverInput } from './schemas'

export const admin = new Hono<{ Bindings: Env }>()
  .post('/redeliver', input(RedeliverInput), async (c) => {
    const { out_trade_no, out_refund_no } = c.var.input
    return c.json({ data: unwrap(await ledgerOf(c.env, out_trade_no).redeliver(out_trade_no, out_refund_no)) })
  })
  .post('/reconciliation', input(ReconciliationInput), async (c) => {
    const { bill_date, refresh } = c.var.input
    const kept = refresh === '1' ? null : await c.env.ORDERS.get<Report>(keys.reconciliation(bill_date), 'json')
    return c.json({ data: kept ?? (await reconcile(c.env, bill_date)) })
  })
