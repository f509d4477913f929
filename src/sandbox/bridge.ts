/**
 * @module
 * A stand-in for WeChat's in-app bridge, for pages opened outside WeChat. `GET /bridge.js` defines
 * `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)`; like WeChat, it has the five
 * parameters and `paySign` checked where the merchant key is (here, `POST /bridge/check`: the key
 * never reaches the page; v2's MD5/HMAC-SHA256 with the APIv2 key, v3's `RSA` with the merchant's
 * public key), shows a pay sheet, and on confirm pays the order in the sandbox (`POST /bridge/pay`). `POST /bridge/scan` pays a NATIVE order by its code_url, as a payer's phone would.
 */
import { Hono } from 'hono'
import * as z from 'zod/mini'
import { loadConfig } from '../config'
import { SIGN_TYPES, type SignType, verify } from '../wechat/sign'
import { rsaVerify } from '../wechat/v3/crypto'
import { BRIDGE_SCRIPT } from './bridge-script'
import { jsonError, type SandboxEnv } from './http'
import { loadOrder, type Order } from './orders'
import { lookupKey } from './shop'
import { now } from './time'
import { PREPAY_TTL_MS } from './unifiedorder'
import { readSettings } from './v3/dev'

const PayParams = z.object({
  appId: z.string(),
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string(),
  signType: z.enum([...SIGN_TYPES, 'RSA']),
  paySign: z.string(),
})

// The sandbox's order keys (see the table in orders.ts).
const ORDER_PREFIX = 'sandbox:order:'

type Checked = { order: Order } | { problem: string }

/** The bridge script and the three routes it (and a scanning phone) calls. */
export const bridge = new Hono<SandboxEnv>()

bridge.get('/bridge.js', (c) =>
  c.body(BRIDGE_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }),
)

bridge.post('/bridge/check', async (c) => {
  const checked = await check(c.env, c.var.kv, await c.req.json().catch(() => undefined))
  if ('problem' in checked) return jsonError(400, 'get_brand_wcpay_request:fail', checked.problem)
  const { order } = checked
  return c.json({
    data: { mch_id: order.request.mch_id, body: order.request.body, total_fee: Number(order.request.total_fee) },
  })
})

bridge.post('/bridge/pay', async (c) => {
  const checked = await check(c.env, c.var.kv, await c.req.json().catch(() => undefined))
  if ('problem' in checked) return jsonError(400, 'get_brand_wcpay_request:fail', checked.problem)
  return payInSandbox(c.req.url, checked.order.out_trade_no)
})

bridge.post('/bridge/scan', async (c) => {
  const input = z.object({ code_url: z.string() }).safeParse(await c.req.json().catch(() => undefined))
  const order = input.success ? await findOrder(c.var.kv, input.data.code_url) : undefined
  if (!order || order.prepay.code_url !== input.data?.code_url) {
    return jsonError(404, 'ORDERNOTEXIST', 'no sandbox order has this code_url')
  }
  return payInSandbox(c.req.url, order.out_trade_no)
})

/** WeChat's checks before it shows a pay sheet: the signature first, then what it names. */
async function check(env: Env, kv: KVNamespace, body: unknown): Promise<Checked> {
  const params = PayParams.safeParse(body)
  if (!params.success) return { problem: 'appId, timeStamp, nonceStr, package, signType and paySign are required' }
  const { paySign, ...fields } = params.data
  const signed = await checkPaySign(env, { ...fields, paySign })
  if (typeof signed === 'string') return { problem: signed }
  if (!signed.appids.includes(fields.appId)) return { problem: `appId ${fields.appId} is not this merchant's appid` }
  const prepayId = /^prepay_id=(wx[0-9a-f]{34})$/.exec(fields.package)?.[1]
  const order = prepayId ? await findOrder(kv, prepayId) : undefined
  if (!order || order.prepay.id !== prepayId) return { problem: 'package names no prepay_id the sandbox issued' }
  // The pay sheet opens in the app the order was placed for: paySign's appId must be the order's.
  if (fields.appId !== order.request.appid)
    return { problem: `appId ${fields.appId} is not the appid the order was placed under` }
  if (now() - order.prepay.at >= PREPAY_TTL_MS)
    return { problem: 'the prepay_id has expired (2 h): place the order again' }
  if (order.trade_state !== 'NOTPAY') return { problem: `the order is ${order.trade_state}` }
  return { order }
}

/**
 * Checks paySign with the merchant's key: for `RSA` (v3, reference §6.8) SHA256withRSA over
 * `appId\ntimeStamp\nnonceStr\npackage\n` with the merchant's public key; otherwise the v2
 * signature with the APIv2 key. Answers the merchant's appids, or the problem to show.
 */
async function checkPaySign(
  env: Env,
  params: Omit<z.infer<typeof PayParams>, 'signType'> & { signType: string },
): Promise<{ appids: readonly string[] } | string> {
  // 支付验证签名失败 is what the WeChat client shows for a paySign that does not verify.
  const failed = '支付验证签名失败 (paySign does not verify with the merchant key)'
  const { paySign, signType, ...fields } = params
  if (signType === 'RSA') {
    const settings = await readSettings(env)
    if (typeof settings === 'string') return settings
    const signedText = `${fields.appId}\n${fields.timeStamp}\n${fields.nonceStr}\n${fields.package}\n`
    return (await rsaVerify(settings.merchantKey, signedText, paySign)) ? { appids: settings.appids } : failed
  }
  const config = loadConfig(env)
  const v2 = signType as SignType
  return (await verify({ ...fields, signType, sign: paySign }, config.apiKey, v2)) ? { appids: config.appids } : failed
}

/**
 * The order of a prepay_id or code_url: looked up where the checkout's shop noted it, else (for a
 * page of your own) found among the sandbox's orders and noted for next time.
 */
async function findOrder(kv: KVNamespace, id: string): Promise<Order | undefined> {
  const noted = await kv.get(lookupKey(id))
  if (noted !== null) return loadOrder(kv, noted)
  let cursor: string | undefined
  do {
    const page = await kv.list({ prefix: ORDER_PREFIX, ...(cursor && { cursor }) })
    const orders = await Promise.all(page.keys.map(({ name }) => loadOrder(kv, name.slice(ORDER_PREFIX.length))))
    const order = orders.find((o) => o?.prepay.id === id || o?.prepay.code_url === id)
    if (order) {
      await kv.put(lookupKey(id), order.out_trade_no)
      return order
    }
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return undefined
}

/** Pays through the sandbox's own `POST /pay`, which notifies the service as WeChat would. */
async function payInSandbox(url: string, outTradeNo: string): Promise<Response> {
  const response = await fetch(new URL('/sandbox/pay', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ out_trade_no: outTradeNo }),
  })
  if (!response.ok) return new Response(response.body, { status: response.status, headers: response.headers })
  await response.body?.cancel()
  return Response.json({ data: { out_trade_no: outTradeNo, paid: true } })
}
