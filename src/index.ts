/** @module Production entry: the Hono app, the order ledger and the refund numbers (Durable Objects), the daily reconciliation (Workflows) — nothing else. */
import { app } from './app'
import { previousBeijingDay, startRun } from './reconcile'

export { OrderLedger } from './ledger/ledger'
export { RefundNumber } from './ledger/refund-number'
export { Reconciliation, ReconciliationBatch } from './reconcile'

export default {
  fetch: app.fetch,
  /** The Cron Trigger (wrangler.toml): start (or join) the run for yesterday's bill (Beijing time). */
  async scheduled(controller, env) {
    await startRun(env, previousBeijingDay(controller.scheduledTime))
  },
} satisfies ExportedHandler<Env>
