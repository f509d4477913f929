/**
 * @module
 * Operating the money lifecycle: `/redeliver` relays a payment (or a refund) to the shop again now;
 * `/reconciliation` reads the daily bill's reconciliation report, or starts (joins) its run.
 */
import { Hono } from 'hono'
import { ledgerOf, unwrap } from '../ledger/stub'
import { reconciliation } from '../reconcile'
import { input } from './input'
import { ReconciliationInput, RedeliverInput } from './schemas'

export const admin = new Hono<{ Bindings: Env }>()
  .post('/redeliver', input(RedeliverInput), async (c) => {
    const { out_trade_no, out_refund_no } = c.var.input
    return c.json({ data: unwrap(await ledgerOf(c.env, out_trade_no).redeliver(out_trade_no, out_refund_no)) })
  })
  .post('/reconciliation', input(ReconciliationInput), async (c) => {
    const { bill_date, refresh } = c.var.input
    const answer = await reconciliation(c.env, bill_date, refresh === '1')
    if (answer.done) return c.json({ data: answer.report })
    const { run, status, progress } = answer
    return c.json({ data: { run, status, progress } }, 202)
  })
