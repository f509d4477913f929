/** @module Production entry: the Hono app, the order ledger and the refund numbers (Durable Objects), the daily reconciliation — nothing else. */
import { app } from './app'
import { previousBeijingDay, reconcile } from './reconcile'

export { OrderLedger } from './ledger/ledger'
export { RefundNumber } from './ledger/refund-number'

export default {
  fetch: app.fetch,
  /** The Cron Trigger (wrangler.toml): reconcile yesterday's bill (Beijing time) once WeChat has published it. */
  async scheduled(controller, env) {
    await reconcile(env, previousBeijingDay(controller.scheduledTime))
  },
} satisfies ExportedHandler<Env>
