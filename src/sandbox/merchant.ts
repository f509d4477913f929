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
import { constantTimeEqual, hmacSha256Hex } from '../wechat/sign'
import { jsonError, type SandboxEnv } from './http'
import { now } from './time'

/** How far the signature's timestamp may be from now. */
export const TOLERANCE_S = 300
const KEY = 'sandbox:merchant:received'
const KEEP = 20
const MAX_BODY = 64 * 1024

const Delivery = z.object({ received_at: z.string(), signature_valid: z.boolean(), body: z.unknown() })
const Deliveries = z.array(Delivery)
type Delivery = z.infer<typeof Delivery>

/** `POST /merchant` (append `?fail=1` to answer 500 and make the service retry) and `GET /merchant`. */
export const merchant = new Hono<SandboxEnv>()

merchant.post('/merchant', async (c) => {
  const raw = await c.req.text()
  if (raw.length > MAX_BODY) return jsonError(413, 'wxPayError.tooLarge', `body is larger than ${MAX_BODY} characters`)
  const secret = loadConfig(c.env).notifySecrets[0] as string
  const problem = await checkSignature({ header: c.req.header('wxpay-signature'), raw, secret })
  await remember(c.var.kv, { received_at: new Date(now()).toISOString(), signature_valid: !problem, body: parse(raw) })
  if (problem) return jsonError(400, 'wxPayError.signature', problem)
  if (c.req.query('fail') === '1') return c.json({ received: false, reason: 'asked to fail with ?fail=1' }, 500)
  return c.json({ received: true })
})

merchant.get('/merchant', async (c) => c.json({ data: await recall(c.var.kv) }))

/** What is wrong with the signature header, or `undefined` when it is valid and fresh. */
export async function checkSignature(options: {
  header: string | undefined
  raw: string
  secret: string
}): Promise<string | undefined> {
  const { header, raw, secret } = options
  if (!header) return 'missing Wxpay-Signature header'
  let t: string | undefined
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2)
    if (name === 't') t = value
    else if (name === 'v1' && value) signatures.push(value)
  }
  if (!t || !/^[0-9]{1,12}$/.test(t) || signatures.length === 0)
    return 'malformed Wxpay-Signature: want t=<seconds>,v1=<hex>'
  const expected = await hmacSha256Hex(secret, `${t}.${raw}`)
  // Every v1 is compared (no early exit), so a rotated secret can send two.
  let valid = false
  for (const signature of signatures) if (constantTimeEqual(signature, expected)) valid = true
  if (!valid) return 'Wxpay-Signature does not match the body'
  if (Math.abs(now() / 1000 - Number(t)) > TOLERANCE_S)
    return `Wxpay-Signature timestamp is more than ${TOLERANCE_S} s away`
  return undefined
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw.slice(0, 2000)
  }
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
