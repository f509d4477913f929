/**
 * @module
 * OrderLedger: one Durable Object per order, the only place an order's state changes.
 */
import { DurableObject } from 'cloudflare:workers'

export class OrderLedger extends DurableObject<Env> {}
