/**
 * @module
 * The checkout page's shop backend, written as a shop would write its own: it prices the cart
 * itself (never trusting a price from the page), places the order through the service with its
 * bearer token — server-side, so the token never reaches the page — and tells the page once the
 * relayed payment has arrived at the stand-in shop (merchant.ts).
 */
import { Hono } from 'hono'
import { renderSVG } from 'uqr'
import * as z from 'zod/mini'
import { loadConfig } from '../config'
import { jsonError, type SandboxEnv } from './http'
import { randomString } from './ids'
import { paymentsReceived } from './merchant'

/** The one product on sale, priced in fen. */
export const PRODUCT = { name: 'T-shirt', body: 'Demo shop-T-shirt', priceFen: 1 }

/** The sandbox's payer. A real H5 page learns the payer's openid through OAuth (snsapi_base). */
export const PAYER_OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'

/** Where the bridge finds the order of a prepay_id or code_url (the sandbox's orders are keyed by out_trade_no). */
export const lookupKey = (id: string) => `sandbox:checkout:${id}`

const Cart = z.object({
  quantity: z.int().check(z.minimum(1), z.maximum(9)),
  trade_type: z.optional(z.enum(['JSAPI', 'NATIVE'])),
  /** One of the merchant's appids (the service checks which); the default when absent. */
  appid: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_]{1,32}$/))),
})

type ServiceReply = { data?: Record<string, string>; error?: { code: string; message: string } }

/** `POST /shop/orders` (`{quantity, trade_type?, appid?}`) and `GET /shop/orders/:out_trade_no`. */
export const shop = new Hono<SandboxEnv>()

shop.post('/shop/orders', async (c) => {
  const cart = Cart.safeParse(await c.req.json().catch(() => undefined))
  if (!cart.success) return jsonError(400, 'wxPayError.params', 'quantity: must be a whole number from 1 to 9')
  const { quantity, trade_type = 'JSAPI', appid } = cart.data
  const origin = new URL(c.req.url).origin
  const out_trade_no = `shop-${Date.now().toString(36)}-${randomString(6)}`
  const total_fee = PRODUCT.priceFen * quantity
  const fields: Record<string, string> = {
    body: PRODUCT.body,
    out_trade_no,
    total_fee: String(total_fee),
    spbill_create_ip: c.req.header('cf-connecting-ip') ?? '127.0.0.1',
    notify_url: `${origin}/sandbox/merchant`,
    ...(trade_type === 'JSAPI' ? { openid: PAYER_OPENID } : { trade_type }),
    ...(appid && { appid }),
  }
  const token = loadConfig(c.env).apiTokens[0] ?? ''
  const response = await fetch(`${origin}/v1/pay/${trade_type === 'JSAPI' ? 'params' : 'unified'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  })
  const reply = await response.json<ServiceReply>()
  if (!reply.data) return Response.json(reply, { status: response.status })
  const order = { out_trade_no, total_fee }
  if (trade_type === 'JSAPI') {
    await c.var.kv.put(lookupKey(reply.data.package?.replace(/^prepay_id=/, '') ?? ''), out_trade_no)
    return c.json({ data: { ...order, params: reply.data } })
  }
  const code_url = reply.data.code_url ?? ''
  await c.var.kv.put(lookupKey(code_url), out_trade_no)
  return c.json({ data: { ...order, code_url, qr_svg: renderSVG(code_url, { border: 2 }) } })
})

shop.get('/shop/orders/:out_trade_no', async (c) => {
  const out_trade_no = c.req.param('out_trade_no')
  const relays = (await paymentsReceived(c.var.kv, out_trade_no)).length
  return c.json({ data: { out_trade_no, paid: relays > 0, relays } })
})
