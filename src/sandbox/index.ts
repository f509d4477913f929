/**
 * @module
 * The built-in WeChat Pay sandbox, mounted at /sandbox only when WXPAY_SANDBOX=on. It plays
 * WeChat for the configured merchant, with the same keys: the v2 XML endpoints (wechat.ts), the v3
 * JSON endpoints under /sandbox/v3 (v3/index.ts, on the same orders), the
 * developer routes that pay orders and show them (pay.ts), a stand-in shop (merchant.ts), and the
 * checkout pages (checkout.ts) with their shop backend (shop.ts) and a stand-in WeixinJSBridge (bridge.ts),
 * and the rendered API reference (reference.ts).
 * Its state lives in the SANDBOX KV namespace (key table in orders.ts). Nothing here is imported
 * by the service.
 */
import { Hono } from 'hono'
import { bridge } from './bridge'
import { checkout } from './checkout'
import { jsonError, type SandboxEnv } from './http'
import { merchant } from './merchant'
import { pay } from './pay'
import { reference } from './reference'
import { refunds } from './refunds'
import { shop } from './shop'
import { v3 } from './v3'
import { wechat } from './wechat'

/** The sandbox app; see the module comment for its routes. */
export const sandbox = new Hono<SandboxEnv>()

sandbox.use('*', async (c, next) => {
  const kv = c.env.SANDBOX
  if (!kv) {
    return jsonError(500, 'wxPayError.config', 'SANDBOX KV binding is missing: declare it in wrangler.toml [env.dev]')
  }
  c.set('kv', kv)
  await next()
})

sandbox.route('/', wechat)
sandbox.route('/v3', v3)
sandbox.route('/', pay)
sandbox.route('/', refunds)
sandbox.route('/', merchant)
sandbox.route('/', shop)
sandbox.route('/', checkout)
sandbox.route('/', bridge)
sandbox.route('/', reference)
