/**
 * @module
 * The four /v1/pay routes: validate → call WeChat → record → respond.
 */
import { Hono } from 'hono'
import { type Config, loadConfig } from '../config'
import { fail, wechatError } from '../errors'
import { getOrder, saveOrder, tradeState } from '../orders/store'
import { createClient, randomNonce as nonce } from '../wechat/client'
import { amount, toOrderView } from '../wechat/order'
import { sign } from '../wechat/sign'
import { input } from './input'
import { placeOrder } from './place'
import { ParamsInput, QueryInput, UnifiedInput } from './schemas'

type Env = { Bindings: globalThis.Env }

function deps(c: { env: globalThis.Env; req: { url: string } }) {
  const config = loadConfig(c.env)
  return { config, kv: c.env.ORDERS, wechat: createClient({ config }), origin: new URL(c.req.url).origin }
}

const seconds = () => String(Math.floor(Date.now() / 1000))

async function signed<T extends Record<string, string>>(fields: T, config: Config, name: string) {
  return { ...fields, [name]: await sign(fields, config.apiKey, config.signType) }
}

export const pay = new Hono<Env>()
  .post('/params', input(ParamsInput), async (c) => {
    const d = deps(c)
    const record = await placeOrder(d, { ...c.var.input, trade_type: 'JSAPI' })
    // getBrandWCPayRequest: paySign over exactly these five fields (reference §7.1).
    const data = await signed(
      {
        appId: d.config.appid,
        timeStamp: seconds(),
        nonceStr: nonce(),
        package: `prepay_id=${record.prepay_id}`,
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
    const prepayid = record.prepay_id as string
    const data = {
      trade_type: order.trade_type,
      prepay_id: prepayid,
      ...(record.code_url && { code_url: record.code_url }),
      ...(record.mweb_url && { mweb_url: record.mweb_url }),
      ...(order.trade_type === 'APP' && {
        // APP 调起支付 (reference §7.4): six lower-case fields, signed like the order.
        app: await signed(
          {
            appid: d.config.appid,
            partnerid: d.config.mchId,
            prepayid,
            package: 'Sign=WXPay',
            noncestr: nonce(),
            timestamp: seconds(),
          },
          d.config,
          'sign',
        ),
      }),
    }
    return c.json({ data })
  })
  .post('/queryOrder', input(QueryInput), async (c) => {
    const { kv, wechat } = deps(c)
    const { out_trade_no, transaction_id } = c.var.input
    const reply = await wechat.call(
      '/pay/orderquery',
      transaction_id ? { out_trade_no, transaction_id } : { out_trade_no },
    )
    if (reply.out_trade_no !== out_trade_no) throw fail('upstream', `the orderquery reply is for another order`)
    const view = toOrderView(reply)
    const record = await getOrder(kv, out_trade_no)
    // An unpaid order may be reported without total_fee; one that carries it must match the record.
    if (record && view.total_fee !== undefined && view.total_fee !== record.total_fee) {
      console.error(JSON.stringify({ event: 'amount_mismatch', source: 'orderquery', out_trade_no }))
      throw fail(
        'upstream',
        `WeChat reports total_fee ${view.total_fee} for ${out_trade_no}, the order was placed for ${record.total_fee}`,
      )
    }
    const state = tradeState(reply.trade_state)
    if (record && state) {
      await saveOrder(
        kv,
        out_trade_no,
        {
          trade_state: state,
          transaction_id: reply.transaction_id,
          time_end: reply.time_end,
          cash_fee: amount(reply.cash_fee),
          bank_type: reply.bank_type,
          openid: reply.openid,
        },
        null,
      )
    }
    return c.json({ data: view })
  })
  .post('/closeOrder', input(QueryInput), async (c) => {
    const { kv, wechat } = deps(c)
    const { out_trade_no } = c.var.input
    const record = await getOrder(kv, out_trade_no)
    if (record?.trade_state === 'SUCCESS' || record?.trade_state === 'REFUND') {
      throw wechatError('ORDERPAID', `order ${out_trade_no} is paid and cannot be closed`)
    }
    // closeorder takes out_trade_no only (reference §5); transaction_id is accepted and not sent.
    await wechat.call('/pay/closeorder', { out_trade_no })
    if (record) await saveOrder(kv, out_trade_no, { trade_state: 'CLOSED' }, null)
    return c.json({ data: { out_trade_no, trade_state: 'CLOSED' } })
  })
