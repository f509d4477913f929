/** @module Worker entry: the service is the Hono app. */
import { app } from './app'

export default app
