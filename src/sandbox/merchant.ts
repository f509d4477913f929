/**
 * @module
 * A stand-in shop backend for the README walk-through: point the shop's notify_url at
 * `/sandbox/merchant` and watch what the service relays. It checks the relay signature
 * `Wxpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(NOTIFY_SECRET, "<t>.<raw body>")>`
 * (constant time, 300 s tolerance) and keeps the last 20 deliveries under `sandbox:merchant:received`.
 */
import { Hono } from 'hono'
import * as z from 'zod/mini'
import { loadConfig } from '../config'
import { SIGNATURE_HEADER, TOLERANCE_SECONDS, verifyRelay } from '../relay'
import { jsonError, type SandboxEnv } from './http'
import { now } from './time'

const KEY = 'sandbox:merchant:received'
const KEEP = 20
const MAX_BODY = 64 * 1024

const Delivery = z.object({
  received_at: z.string(),
  signature_valid: z.boolean(),
  /** The HTTP status the stand-in answered (400 bad signature, 500 asked to fail, 200). */
  answered: z.optional(z.int()),
  body: z.unknown(),
})
const Deliveries = z.array(Delivery)
type Delivery = z.infer<typeof Delivery>

/**
 * `POST /merchant` and `GET /merchant`. Append `?fail=1` to answer 500 always, or
 * `?fail_until=<unix seconds>` to answer 500 until then (a shop that is down, then back).
 */
export const merchant = new Hono<SandboxEnv>()

merchant.post('/merchant', async (c) => {
  const raw = await c.req.text()
  if (raw.length > MAX_BODY) return jsonError(413, 'wxPayError.tooLarge', `body is larger than ${MAX_BODY} characters`)
  const header = c.req.header(SIGNATURE_HEADER)
  const valid = await verifyRelay(raw, header, loadConfig(c.env).notifySecrets, { now: now() })
  const until = Number(c.req.query('fail_until'))
  const failing = c.req.query('fail') === '1' || until > now() / 1000
  const answered = !valid ? 400 : failing ? 500 : 200
  await remember(c.var.kv, {
    received_at: new Date(now()).toISOString(),
    signature_valid: valid,
    answered,
    body: parse(raw),
  })
  if (!valid) {
    const problem = header
      ? `${SIGNATURE_HEADER} does not verify: want t=<seconds>,v1=<hex HMAC-SHA256(NOTIFY_SECRET, "<t>.<raw body>")> within ${TOLERANCE_SECONDS} s`
      : `missing ${SIGNATURE_HEADER} header`
    return jsonError(400, 'wxPayError.signature', problem)
  }
  if (failing) return c.json({ received: false, reason: 'asked to fail (?fail=1 or ?fail_until)' }, 500)
  return c.json({ received: true })
})

merchant.get('/merchant', async (c) => c.json({ data: await recall(c.var.kv) }))

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw.slice(0, 2000)
  }
}

/** The verified payment relays the stand-in shop holds for one order (latest first). */
export async function paymentsReceived(kv: KVNamespace, outTradeNo: string): Promise<Delivery[]> {
  return (await recall(kv)).filter(({ signature_valid, body }) => {
    const event = body as { type?: unknown; data?: { out_trade_no?: unknown } } | null
    return signature_valid && event?.type === 'payment' && event.data?.out_trade_no === outTradeNo
  })
}

async function recall(kv: KVNamespace): Promise<Delivery[]> {
  const parsed = Deliveries.safeParse(await kv.get(KEY, 'json'))
  // Nothing yet, or a list this code did not write: start afresh rather than guess.
  return parsed.success ? parsed.data : []
}

async function remember(kv: KVNamespace, delivery: Delivery): Promise<void> {
  const list = [delivery, ...(await recall(kv))].slice(0, KEEP)
  await kv.put(KEY, JSON.stringify(list))
}
