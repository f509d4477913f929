/**
 * @module
 * The v3 sandbox: WeChat Pay API v3 under `/sandbox/v3`, beside the v2 endpoints, on the same
 * orders. Every request passes protocol.ts (headers, the merchant's RSA signature, a fresh
 * timestamp) before its body is read; every reply is signed with the sandbox's "WeChat Pay" key
 * (reply.ts), but the bill file. Keys and the merchant's registration: settings.ts.
 *
 * | route | module |
 * |---|---|
 * | `POST /v3/pay/transactions/{jsapi,native,app,h5}` | transactions.ts |
 * | `GET /v3/pay/transactions/out-trade-no/{no}?mchid=`, `GET …/id/{transaction_id}?mchid=`, `POST …/out-trade-no/{no}/close` | query.ts |
 * | `POST /v3/refund/domestic/refunds`, `GET /v3/refund/domestic/refunds/{out_refund_no}` | refund.ts |
 * | `GET /v3/bill/tradebill`, `GET /v3/billdownload/file?token=` | bill.ts |
 * | `GET /v3/certificates` | certificates.ts |
 */
import { type Context, Hono } from 'hono'
import { jsonError, type SandboxEnv } from '../http'
import { now } from '../time'
import { billFile, tradeBill } from './bill'
import { certificates } from './certificates'
import { type Authentic, authenticate, refuse, replySerial, type WechatError } from './protocol'
import { closeOrder, queryOrder } from './query'
import { queryRefund, requestRefund } from './refund'
import { errorBody, signedReply } from './reply'
import { loadSettings, type Settings, SettingsError } from './settings'
import { nowSeconds } from './time'
import { type Answer, type Kind, placeOrder } from './transactions'

type Call = { c: Context<SandboxEnv>; kv: KVNamespace; settings: Settings; auth: Authentic }
type Handler = (call: Call) => Promise<Answer | WechatError | Response>

/** The v3 endpoints, mounted at `/v3` by the sandbox. */
export const v3 = new Hono<SandboxEnv>()

const route = (handler: Handler) => (c: Context<SandboxEnv>) => answer(c, handler)

v3.post(
  '/pay/transactions/:kind{jsapi|native|app|h5}',
  route(({ kv, settings, auth, c }) =>
    placeOrder({ kv, settings, kind: c.req.param('kind') as Kind, json: auth.json, at: now() }),
  ),
)
v3.get(
  '/pay/transactions/out-trade-no/:no',
  route(({ kv, settings, auth, c }) =>
    queryOrder({ kv, settings, by: { out_trade_no: c.req.param('no') ?? '' }, mchid: auth.query.get('mchid') }),
  ),
)
v3.get(
  '/pay/transactions/id/:id',
  route(({ kv, settings, auth, c }) =>
    queryOrder({ kv, settings, by: { transaction_id: c.req.param('id') ?? '' }, mchid: auth.query.get('mchid') }),
  ),
)
v3.post(
  '/pay/transactions/out-trade-no/:no/close',
  route(({ kv, settings, auth, c }) =>
    closeOrder({ kv, settings, outTradeNo: c.req.param('no') ?? '', json: auth.json, at: now() }),
  ),
)
v3.post(
  '/refund/domestic/refunds',
  route(({ kv, auth }) => requestRefund({ kv, json: auth.json })),
)
v3.get(
  '/refund/domestic/refunds/:no',
  route(({ kv, c }) => queryRefund({ kv, outRefundNo: c.req.param('no') ?? '' })),
)
v3.get(
  '/bill/tradebill',
  route(({ kv, auth, c }) => {
    const url = new URL(c.req.url)
    const base = `${url.origin}${url.pathname.slice(0, url.pathname.indexOf('/v3/'))}`
    return tradeBill({ kv, query: auth.query, base })
  }),
)
v3.get(
  '/billdownload/file',
  route(({ kv, auth }) => billFile({ kv, query: auth.query })),
)
v3.get(
  '/certificates',
  route(({ settings, auth }) => certificates(settings, auth.query)),
)
v3.all(
  '*',
  route(async ({ c }) => refuse(404, 'NOT_FOUND', `无此接口: ${c.req.method} ${new URL(c.req.url).pathname}`)),
)

async function answer(c: Context<SandboxEnv>, handler: Handler): Promise<Response> {
  let settings: Settings
  try {
    settings = await loadSettings(c.env)
  } catch (err) {
    if (err instanceof SettingsError) return jsonError(500, 'wxPayError.config', err.message)
    throw err
  }
  const seconds = nowSeconds()
  const reply = (serial: string, result: Answer | WechatError) =>
    'code' in result && 'message' in result
      ? signedReply({ settings, serial, status: result.status, body: errorBody(result), nowSeconds: seconds })
      : signedReply({ settings, serial, status: result.status, body: result.body, nowSeconds: seconds })
  const serial = replySerial(c.req.header('wechatpay-serial'), settings)
  if (typeof serial !== 'string') return reply(replySerial(undefined, settings) as string, serial)
  const auth = await authenticate(c.req.raw, settings, seconds)
  if ('status' in auth) return reply(serial, auth)
  const result = await handler({ c, kv: c.var.kv, settings, auth })
  return result instanceof Response ? result : reply(serial, result)
}
