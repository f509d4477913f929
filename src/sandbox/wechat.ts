/**
 * @module
 * The v2 endpoints, XML in and XML out, each behind the same gate WeChat applies:
 * protocol (method, XML, signature) → encoding → merchant → field formats → the endpoint itself.
 * `/pay/downloadbill` answers a CSV bill instead (bill.ts).
 */
import { type Context, Hono } from 'hono'
import { loadConfig } from '../config'
import type { SignType } from '../wechat/sign'
import type { Fields } from '../wechat/xml'
import { answerBill } from './bill'
import type { SandboxEnv } from './http'
import { failReply, readRequest, reply } from './protocol'
import { closeOrder, orderQuery } from './query'
import { type Outcome, refund, refundQuery } from './refund'
import { checkEncoding, checkFormats, checkMerchant } from './rules'
import { unifiedOrder } from './unifiedorder'

type Handler = (kv: KVNamespace, fields: Fields, signType: SignType) => Promise<Outcome>

const ENDPOINTS: Record<string, Handler> = {
  '/pay/unifiedorder': unifiedOrder,
  '/pay/orderquery': orderQuery,
  '/pay/closeorder': closeOrder,
  '/secapi/pay/refund': refund,
  '/pay/refundquery': refundQuery,
}

/** `POST` to each of {@link ENDPOINTS} and `/pay/downloadbill`; any other method is refused in XML. */
export const wechat = new Hono<SandboxEnv>()

for (const [path, handler] of Object.entries(ENDPOINTS)) {
  wechat.all(path, (c) => answer(c, handler))
}
wechat.all('/pay/downloadbill', answerBill)

async function answer(c: Context<SandboxEnv>, handler: Handler): Promise<Response> {
  const config = loadConfig(c.env)
  const request = await readRequest(c.req.raw, config.apiKey)
  if ('returnMsg' in request) return failReply(request.returnMsg)
  const { fields, signType } = request
  const result =
    checkEncoding(fields) ??
    checkMerchant(fields, config) ??
    checkFormats(fields) ??
    (await handler(c.var.kv, fields, signType))
  if ('returnMsg' in result) return failReply(result.returnMsg)
  return reply({ request, config, result })
}
