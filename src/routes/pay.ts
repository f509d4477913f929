/**
 * @module
 * The four /v1/pay routes: validate → call WeChat or the order's ledger → respond.
 */
import { Hono } from 'hono'
import { type Config, loadConfig } from '../config'
import { PayError, wechatError } from '../errors'
import { appidOf, isPaid } from '../ledger/record'
import { ledgerOf, unwrap } from '../ledger/stub'
import { type Wechat as Client, createWechat } from '../wechat'
import { randomNonce as nonce } from '../wechat/client'
import { orderReplyOf, toOrderView } from '../wechat/order'
import { sign } from '../wechat/sign'
import { appParams, jsapiParams } from '../wechat/v3/pay-sign'
import type { Fields } from '../wechat/xml'
import { checkTradeNo } from './fields'
import { input } from './input'
import { placeOrder } from './place'
import { ParamsInput, QueryInput, UnifiedInput } from './schemas'

type Env = { Bindings: globalThis.Env }

function deps(c: { env: globalThis.Env; req: { url: string } }) {
  const config = loadConfig(c.env)
  return { config, env: c.env, wechat: createWechat({ config, kv: c.env.ORDERS }), origin: originOf(c.req.url) }
}

/** A request URL's origin without parsing it again: Request.url is serialized, with a path, and no credentials. */
function originOf(url: string): string {
  const end = url.indexOf('/', url.indexOf('//') + 2)
  return end < 0 ? url : url.slice(0, end)
}

const seconds = () => String(Math.floor(Date.now() / 1000))

async function signed<T extends Record<string, string>>(fields: T, config: Config, name: string) {
  return { ...fields, [name]: await sign(fields, config.apiKey, config.signType) }
}

export const pay = new Hono<Env>()
  .post('/params', input(ParamsInput), async (c) => {
    const d = deps(c)
    const record = await placeOrder(d, { ...c.var.input, trade_type: 'JSAPI' })
    const prepayId = record.prepay_id as string
    const appid = appidOf(record, d.config.appid)
    // getBrandWCPayRequest: v3 signs four lines with the merchant's RSA key (v3 reference §6.8);
    // v2 signs exactly these five fields (reference §7.1).
    const data =
      d.config.apiVersion === 'v3'
        ? await jsapiParams(d.config, { prepayId, timeStamp: seconds(), nonceStr: nonce(), appid })
        : await signed(
            {
              appId: appid,
              timeStamp: seconds(),
              nonceStr: nonce(),
              package: `prepay_id=${prepayId}`,
              signType: d.config.signType,
            },
            d.config,
            'paySign',
          )
    return c.json({ data })
  })
  .post('/unified', input(UnifiedInput), async (c) => {
    const d = deps(c)
    const order = c.var.input
    const record = await placeOrder(d, order)
    // A v3 NATIVE order has only code_url (v3 reference §6.3): no prepay_id to answer.
    const prepayid = record.prepay_id
    const data = {
      trade_type: order.trade_type,
      ...(prepayid && { prepay_id: prepayid }),
      ...(record.code_url && { code_url: record.code_url }),
      ...(record.mweb_url && { mweb_url: record.mweb_url }),
      ...(order.trade_type === 'APP' && {
        app: await appPayment(d.config, appidOf(record, d.config.appid), prepayid ?? ''),
      }),
    }
    return c.json({ data })
  })
  .post('/queryOrder', input(QueryInput), async (c) => {
    const { wechat, config } = deps(c)
    const { out_trade_no, transaction_id } = c.var.input
    checkTradeNo(config, out_trade_no)
    const ledger = ledgerOf(c.env, out_trade_no)
    // WeChat answers for the appid asked with: the order's (the default for one this service never placed).
    const record = unwrap(await ledger.get(out_trade_no))
    const appid = appidOf(record ?? {}, config.appid)
    const reply = await orderQuery(wechat, appid, out_trade_no, transaction_id)
    const view = toOrderView(reply)
    // The ledger moves forward with what WeChat says; a payment found here is relayed like a notified one.
    unwrap(await ledger.learnQuery(out_trade_no, { ...reply }))
    return c.json({ data: view })
  })
  .post('/closeOrder', input(QueryInput), async (c) => {
    const { wechat, config } = deps(c)
    const { out_trade_no } = c.var.input
    checkTradeNo(config, out_trade_no)
    const ledger = ledgerOf(c.env, out_trade_no)
    const record = unwrap(await ledger.get(out_trade_no))
    const appid = appidOf(record ?? {}, config.appid)
    if (record && isPaid(record.trade_state)) {
      throw wechatError('ORDERPAID', `order ${out_trade_no} is paid and cannot be closed`)
    }
    if (record?.trade_state === 'CLOSED' || record?.trade_state === 'REVOKED') {
      throw wechatError('ORDERCLOSED', `order ${out_trade_no} is already closed`)
    }
    try {
      // closeorder takes out_trade_no only (reference §5); transaction_id is accepted and not sent.
      await naming(out_trade_no, wechat.call('/pay/closeorder', { out_trade_no, appid }))
    } catch (err) {
      // Paid while the shop decided to close (reference §5 race): learn the payment, say so.
      if (err instanceof PayError && err.failure.kind === 'wechat' && err.failure.errCode === 'ORDERPAID') {
        const paid = await orderQuery(wechat, appid, out_trade_no)
        unwrap(await ledger.learnQuery(out_trade_no, { ...paid }))
        throw wechatError(
          'ORDERPAID',
          `order ${out_trade_no} was paid before it could be closed (transaction_id ${paid.transaction_id ?? 'unknown'})`,
        )
      }
      throw err
    }
    const after = record ? unwrap(await ledger.learnClosed(out_trade_no)) : null
    if (after && isPaid(after.trade_state)) {
      throw wechatError('ORDERPAID', `order ${out_trade_no} was paid while it was being closed`)
    }
    return c.json({ data: { out_trade_no, trade_state: 'CLOSED' } })
  })

/** APP 调起支付: v2's six lower-case fields signed like the order (reference §7.4), or v3's RSA sign (v3 reference §6.9). */
function appPayment(config: Config, appid: string, prepayid: string) {
  if (config.apiVersion === 'v3')
    return appParams(config, { prepayId: prepayid, timestamp: seconds(), noncestr: nonce(), appid })
  return signed(
    { appid, partnerid: config.mchId, prepayid, package: 'Sign=WXPay', noncestr: nonce(), timestamp: seconds() },
    config,
    'sign',
  )
}

/** orderquery under the order's appid, checked to be about the order asked for. */
async function orderQuery(wechat: Client, appid: string, outTradeNo: string, transactionId?: string): Promise<Fields> {
  const ids: Record<string, string> = { out_trade_no: outTradeNo }
  if (transactionId) ids.transaction_id = transactionId
  const reply = await naming(outTradeNo, wechat.call('/pay/orderquery', { ...ids, appid }))
  return orderReplyOf(reply, { out_trade_no: outTradeNo, ...(transactionId && { transaction_id: transactionId }) })
    .fields
}

/** WeChat's ORDERNOTEXIST says only 订单不存在: name the order in front of its text. */
async function naming<T>(outTradeNo: string, call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (err) {
    if (err instanceof PayError && err.failure.kind === 'wechat' && err.failure.errCode === 'ORDERNOTEXIST') {
      throw wechatError('ORDERNOTEXIST', `order ${outTradeNo} does not exist at WeChat: ${err.failure.message}`)
    }
    throw err
  }
}
