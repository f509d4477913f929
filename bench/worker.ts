/**
 * @module
 * The bench Worker (part 2 of `npm run bench`): the service's own app, run in workerd with WeChat
 * Pay and the shop answered in-process (bench/upstream.ts). bench/service.mjs drives it:
 *  - `POST /prepare?route=&ids=`: signs what the route's requests need (upstream replies, notifications).
 *  - `POST /one?route=&id=&kv=`: builds the route's request, passes it to `app.fetch` and checks the
 *    answer; replies with the milliseconds `app.fetch` took by the isolate's clock (1 ms steps: only a
 *    mean over many is meaningful).
 *  - `POST /one?…&dry`: the same, without `app.fetch`: the baseline the figures subtract.
 * `kv=memory` gives the service an in-memory ORDERS (its own work only); `kv=local` Miniflare's store.
 */
import { app } from '../src/app'
import { withMemoryKV } from './memory-kv'
import { type Merchant, notification, prepareQueryReply, prepareReplies, SHOP_URL, strays, upstream } from './upstream'

globalThis.fetch = upstream

const ROUTES = ['params', 'unified', 'queryOrder', 'closeOrder', 'notify'] as const
type Route = (typeof ROUTES)[number]

const SERVICE = 'https://wxpay.bench'
const TOTAL_FEE = 101
const notifications = new Map<string, string>()

export default {
  async fetch(request: Request, bindings: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url)
    const env = url.searchParams.get('kv') === 'memory' ? withMemoryKV(bindings) : bindings
    const route = url.searchParams.get('route') as Route
    if (!ROUTES.includes(route)) return new Response(`unknown route ${route}`, { status: 400 })
    const ids = (url.searchParams.get('ids') ?? url.searchParams.get('id') ?? '').split(',')
    try {
      if (url.pathname === '/prepare') {
        await prepare(route, ids, merchantOf(env))
        return new Response('ok')
      }
      if (url.pathname === '/one') {
        const id = ids[0] ?? ''
        const serviceRequest = requestFor(route, id, env)
        if (url.searchParams.has('dry')) return new Response('0')
        const start = Date.now()
        await serve(serviceRequest, route, id, env, ctx)
        return new Response(String(Date.now() - start))
      }
    } catch (err) {
      return new Response(err instanceof Error ? err.message : String(err), { status: 500 })
    }
    return new Response('not found', { status: 404 })
  },
}

function merchantOf(env: Env): Merchant {
  return { appid: env.WXPAY_APPID ?? '', mchId: env.WXPAY_MCH_ID ?? '', apiKey: env.WXPAY_API_KEY ?? '' }
}

async function prepare(route: Route, ids: string[], merchant: Merchant): Promise<void> {
  await prepareReplies(merchant)
  for (const id of ids) {
    if (route === 'queryOrder') await prepareQueryReply(merchant, id, TOTAL_FEE)
    if (route === 'notify') notifications.set(id, await notification(merchant, id, TOTAL_FEE))
  }
}

/** One request as the shop (or WeChat, for notify) sends it; throws unless the service answers as expected. */
async function serve(request: Request, route: Route, id: string, env: Env, ctx: ExecutionContext): Promise<void> {
  const response = await app.fetch(request, env, ctx)
  const text = await response.text()
  const ok =
    response.status === 200 &&
    (route === 'notify' ? text.includes('<return_code><![CDATA[SUCCESS]]>') : text.startsWith('{"data":'))
  if (!ok || strays.length > 0) {
    throw new Error(`${route} ${id}: HTTP ${response.status} ${text.slice(0, 300)} ${strays.join(' ')}`)
  }
}

/** The request as it arrives over HTTP, Content-Length included (without it hono's bodyLimit re-buffers the body). */
function requestFor(route: Route, id: string, env: Env): Request {
  if (route === 'notify') {
    const body = notifications.get(id)
    if (!body) throw new Error(`notify ${id}: not prepared`)
    return post('/v1/pay/notify', { 'content-type': 'text/xml' }, body)
  }
  const order = {
    body: '测试商店-商品',
    out_trade_no: id,
    total_fee: String(TOTAL_FEE),
    spbill_create_ip: '14.23.150.211',
    notify_url: SHOP_URL,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  }
  const fields: Record<string, string> =
    route === 'params' ? order : route === 'unified' ? { ...order, trade_type: 'JSAPI' } : { out_trade_no: id }
  const token = (env.API_TOKENS ?? '').split(',').at(-1) ?? ''
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }
  return post(`/v1/pay/${route}`, headers, new URLSearchParams(fields).toString())
}

const encoder = new TextEncoder()

function post(path: string, headers: Record<string, string>, body: string): Request {
  const bytes = encoder.encode(body)
  return new Request(`${SERVICE}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-length': String(bytes.byteLength) },
    body: bytes,
  })
}
