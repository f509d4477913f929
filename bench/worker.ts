/**
 * @module
 * The bench Worker (part 2 of `npm run bench`): the service's own app and its OrderLedger Durable
 * Object, run in workerd with WeChat Pay and the shop answered in-process (bench/upstream.ts; the
 * Worker and its Durable Objects share one isolate, so the ledger's fetch is answered there too).
 * bench/service.mjs drives it:
 *  - `POST /prepare?route=&ids=`: signs what the route's requests need (upstream replies, notifications).
 *  - `POST /one?route=&id=&kv=`: builds the route's request, runs it and checks the answer; replies
 *    with the milliseconds it took by the isolate's clock (1 ms steps: only a mean over many is meaningful).
 *  - `POST /one?…&dry`: the same, without running it: the baseline the figures subtract.
 *  - `POST /batch?route=&ids=&kv=[&dry]`: the same for many requests in one call (CPU-time figures).
 * The routes are the service's own (`app.fetch`), plus two parts of `/v1/pay/params` timed alone:
 *  - `ledger`: the RPC `LEDGER.place(…)` with the PlaceRequest the route would send (built before the
 *    clock starts): the Durable Object's whole share, its unifiedorder call included;
 *  - `unifiedorder`: that unifiedorder call alone, through the WeChat client, in the Worker;
 *  - `rpc`: `LEDGER.get(…)` of an order whose ledger is running and has its record in memory: an RPC
 *    round trip with no storage and no start-up;
 *  - `route`: `/v1/pay/params` through the app with a LEDGER binding whose `place()` answers at once:
 *    the service's own work outside the ledger, timed alone rather than as a difference of medians.
 * `kv=memory` gives the service and its ledgers an in-memory ORDERS (their own work only);
 * `kv=local` Miniflare's store.
 */
import { app } from '../src/app'
import { loadConfig } from '../src/config'
import type { PlaceRequest } from '../src/ledger/ledger'
import { ledgerOf, unwrap } from '../src/ledger/stub'
import { createWechat } from '../src/wechat'
import { sha256Hex } from '../src/wechat/sign'
import { merchantKey, rsaSign } from '../src/wechat/v3/crypto'
import { type BenchEnv, withMemoryKV } from './memory-kv'
import { type Merchant, notification, prepareQueryReply, prepareReplies, SHOP_URL, strays, upstream } from './upstream'
import { prepareV3Reply, type V3Merchant, v3Notification } from './upstream-v3'

export { OrderLedger } from '../src/ledger/ledger'
export { MemoryLedger } from './memory-kv'

globalThis.fetch = upstream

const ROUTES = [
  'params',
  'unified',
  'queryOrder',
  'closeOrder',
  'notify',
  'ledger',
  'unifiedorder',
  'rpc',
  'route',
  'rsa',
] as const
type Route = (typeof ROUTES)[number]

const SERVICE = 'https://wxpay.bench'
const TOTAL_FEE = 101
const PREPAY_ID = 'wx201411101639507cbf6ffd8b0779950874'
const notifications = new Map<string, string | { headers: Record<string, string>; body: Uint8Array }>()
const isV3 = (env: Env) => (env as unknown as Record<string, unknown>).WXPAY_API_VERSION === 'v3'

/** The v3 run's WeChat side: the sandbox's test-only key (dev-v3.env) signs what "WeChat" sends. */
function v3MerchantOf(env: Env): V3Merchant {
  const vars = env as unknown as Record<string, string>
  return {
    appid: vars.WXPAY_APPID ?? '',
    mchId: vars.WXPAY_MCH_ID ?? '',
    apiV3Key: vars.WXPAY_APIV3_KEY ?? '',
    wechatKey: vars.SANDBOX_V3_PRIVATE_KEY ?? '',
    publicKeyId: vars.WXPAY_PUBLIC_KEY_ID ?? '',
  }
}

export default {
  async fetch(request: Request, bindings: BenchEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url)
    const env = url.searchParams.get('kv') === 'memory' ? withMemoryKV(bindings) : bindings
    const route = url.searchParams.get('route') as Route
    if (!ROUTES.includes(route)) return new Response(`unknown route ${route}`, { status: 400 })
    const ids = (url.searchParams.get('ids') ?? url.searchParams.get('id') ?? '').split(',')
    try {
      if (url.pathname === '/prepare') {
        await prepare(route, ids, merchantOf(env), env)
        return new Response('ok')
      }
      if (url.pathname === '/batch') {
        // Many requests in one call, so the bench's own HTTP hop is a small part of the CPU time measured.
        const runs = []
        for (const id of ids) runs.push(await jobFor(route, id, env, ctx))
        if (!url.searchParams.has('dry')) for (const run of runs) await run()
        if (strays.length > 0) throw new Error(`${route}: unanswered outbound calls ${strays.join(' ')}`)
        return new Response('ok')
      }
      if (url.pathname === '/one') {
        const run = await jobFor(route, ids[0] ?? '', env, ctx)
        if (url.searchParams.has('dry')) return new Response('0')
        const start = Date.now()
        await run()
        if (strays.length > 0) throw new Error(`${route}: unanswered outbound calls ${strays.join(' ')}`)
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

async function prepare(route: Route, ids: string[], merchant: Merchant, env: BenchEnv): Promise<void> {
  await prepareReplies(merchant)
  if (isV3(env)) await prepareV3Reply(v3MerchantOf(env))
  for (const id of ids) {
    // rpc reads orders placed here, just before it: an idle ledger can be evicted on a busy machine,
    // its in-memory storage with it.
    if (route === 'rpc') unwrap(await ledgerOf(env, id).place(await placeRequest(id, env)))
    if (route === 'queryOrder') await prepareQueryReply(merchant, id, TOTAL_FEE)
    if (route === 'notify')
      notifications.set(
        id,
        isV3(env)
          ? await v3Notification(v3MerchantOf(env), id, TOTAL_FEE)
          : await notification(merchant, id, TOTAL_FEE),
      )
  }
}

/** Everything a request needs, built ahead; the returned function is what is timed, and throws unless the answer is right. */
async function jobFor(route: Route, id: string, env: BenchEnv, ctx: ExecutionContext): Promise<() => Promise<void>> {
  if (route === 'ledger') {
    const request = await placeRequest(id, env)
    return async () => {
      const record = unwrap(await ledgerOf(env, id).place(request))
      if (record.prepay_id !== PREPAY_ID) throw new Error(`ledger ${id}: prepay_id ${record.prepay_id}`)
    }
  }
  if (route === 'unifiedorder') {
    const fields = (await placeRequest(id, env)).fields
    return async () => {
      const reply = await createWechat({ config: loadConfig(env) }).call('/pay/unifiedorder', fields)
      if (reply.prepay_id !== PREPAY_ID) throw new Error(`unifiedorder ${id}: prepay_id ${reply.prepay_id}`)
    }
  }
  if (route === 'route') {
    // /v1/pay/params with a ledger that answers at once: the route's own work, timed alone.
    // One object per isolate, as the runtime's env is, so per-env caches (config) stay warm.
    standIn ??= { ...env, LEDGER: instantLedger } as unknown as BenchEnv
    const serviceRequest = requestFor('params', id, env)
    return async () => {
      const response = await app.fetch(serviceRequest, standIn, ctx)
      const text = await response.text()
      if (response.status !== 200 || !text.startsWith('{"data":')) throw new Error(`route ${id}: ${text.slice(0, 300)}`)
    }
  }
  if (route === 'rsa') {
    // The RSA share of a v3 /v1/pay/params: two SHA256withRSA signatures with the merchant key (the
    // unifiedorder request's Authorization and the paySign), the key imported once per isolate as the service does.
    const pem = loadConfig(env).v3?.privateKey ?? ''
    const request = `POST\n/v3/pay/transactions/jsapi\n1796538052\n${id}\n${JSON.stringify(orderFields(id))}\n`
    const pay = `wxd930ea5d5a258f4f\n1796538052\n${id}\nprepay_id=${PREPAY_ID}\n`
    return async () => {
      const key = await merchantKey(pem)
      await rsaSign(key, request)
      await rsaSign(key, pay)
    }
  }
  if (route === 'rpc') {
    return async () => {
      const result = await ledgerOf(env, id).get(id)
      if (!result.ok || result.value?.out_trade_no !== id) throw new Error(`rpc ${id}: no record`)
    }
  }
  const serviceRequest = requestFor(route, id, env)
  return async () => {
    const response = await app.fetch(serviceRequest, env, ctx)
    const text = await response.text()
    const ok =
      route === 'notify'
        ? isV3(env)
          ? response.status === 204
          : response.status === 200 && text.includes('<return_code><![CDATA[SUCCESS]]>')
        : response.status === 200 && text.startsWith('{"data":')
    if (!ok) throw new Error(`${route} ${id}: HTTP ${response.status} ${text.slice(0, 300)}`)
  }
}

let standIn: BenchEnv | undefined

/** A LEDGER binding whose place() answers at once with the record a new order gets (no RPC, no storage). */
const instantLedger = {
  idFromName: (name: string) => name,
  get: () => ({
    place: async (request: PlaceRequest) => ({
      ok: true as const,
      value: { out_trade_no: request.out_trade_no, prepay_id: PREPAY_ID, trade_state: 'NOTPAY' },
    }),
  }),
}

function orderFields(id: string) {
  return {
    body: '测试商店-商品',
    out_trade_no: id,
    total_fee: String(TOTAL_FEE),
    spbill_create_ip: '14.23.150.211',
    notify_url: SHOP_URL,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  }
}

/** What src/routes/place.ts sends the ledger for a `/v1/pay/params` order (same fields, same fingerprint inputs). */
async function placeRequest(id: string, env: Env): Promise<PlaceRequest> {
  const { notify_url: shopNotifyUrl, ...shop } = { ...orderFields(id), trade_type: 'JSAPI' }
  const config = loadConfig(env)
  const merchant = { appid: config.appid, mch_id: config.mchId, sign_type: config.signType }
  const canonical = Object.entries({ ...shop, ...merchant })
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .concat(`shop_notify_url=${shopNotifyUrl}`)
    .join('\n')
  return {
    out_trade_no: id,
    fields: { ...shop, appid: config.appid, notify_url: `${SERVICE}/v1/pay/notify` },
    fingerprints: [await sha256Hex(canonical)],
    record: {
      appid: config.appid,
      trade_type: 'JSAPI',
      body: shop.body,
      total_fee: TOTAL_FEE,
      openid: shop.openid,
      attach: undefined,
      notify_url: shopNotifyUrl,
    },
    validityMs: 2 * 3600_000,
  }
}

/** The request as it arrives over HTTP, Content-Length included (without it hono's bodyLimit re-buffers the body). */
function requestFor(route: Route, id: string, env: Env): Request {
  if (route === 'notify') {
    const prepared = notifications.get(id)
    if (!prepared) throw new Error(`notify ${id}: not prepared`)
    if (typeof prepared !== 'string') return post('/v1/pay/notify', prepared.headers, prepared.body)
    return post('/v1/pay/notify', { 'content-type': 'text/xml' }, prepared)
  }
  const order = orderFields(id)
  const fields: Record<string, string> =
    route === 'params' ? order : route === 'unified' ? { ...order, trade_type: 'JSAPI' } : { out_trade_no: id }
  const token = (env.API_TOKENS ?? '').split(',').at(-1) ?? ''
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }
  return post(`/v1/pay/${route}`, headers, new URLSearchParams(fields).toString())
}

const encoder = new TextEncoder()

function post(path: string, headers: Record<string, string>, body: string | Uint8Array): Request {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body
  return new Request(`${SERVICE}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-length': String(bytes.byteLength) },
    body: bytes,
  })
}
