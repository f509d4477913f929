/** @module Production entry: the Hono app, the order ledger (Durable Object), the daily reconciliation (Workflow) — nothing else. */
import { app } from './app'
import { previousBeijingDay, startRun } from './reconcile'

export { OrderLedger } from './ledger/ledger'
export { Reconciliation, ReconciliationBatch } from './reconcile'

export default {
  fetch: app.fetch,
  /** The Cron Trigger (wrangler.toml): start (or join) the run for yesterday's bill (Beijing time). */
  async scheduled(controller, env) {
    await startRun(env, previousBeijingDay(controller.scheduledTime))
  },
} satisfies ExportedHandler<Env>
