/** @module Production entry: the Hono app, the order ledger (Durable Object) and nothing else. */
import { app } from './app'

export { OrderLedger } from './ledger/ledger'

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>
