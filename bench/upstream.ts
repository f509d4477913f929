/**
 * @module
 * WeChat Pay and the shop's backend, answered inside the bench Worker's isolate: the service's
 * outbound fetch is replaced by a function that returns replies signed in advance, so a timed
 * request contains no network and no signing that WeChat or the shop would do.
 */
import { sign } from '../src/wechat/sign'
import { encode } from '../src/wechat/xml'
import { v3Reply } from './upstream-v3'

/** WXPAY_API_BASE / _BACKUP and the shop's notify_url host in the bench configuration. */
export const WECHAT_HOSTS = new Set(['api.wechat.bench', 'api2.wechat.bench'])
export const SHOP_URL = 'https://shop.bench/paid'

export type Merchant = { appid: string; mchId: string; apiKey: string }

const signed = new Map<string, string>()
let unifiedReply = ''
let closeReply = ''
/** Calls that found no stand-in: any at all fails the bench. */
export const strays: string[] = []

/** Signs the replies that do not depend on the order (once per isolate). */
export async function prepareReplies(merchant: Merchant): Promise<void> {
  if (unifiedReply) return
  unifiedReply = await reply(merchant, {
    result_code: 'SUCCESS',
    prepay_id: 'wx201411101639507cbf6ffd8b0779950874',
    trade_type: 'JSAPI',
  })
  closeReply = await reply(merchant, { result_code: 'SUCCESS', result_msg: 'OK' })
}

/** The orderquery reply for an unpaid order (§10.4 shape, trade_state NOTPAY), signed ahead of time. */
export async function prepareQueryReply(merchant: Merchant, outTradeNo: string, totalFee: number): Promise<void> {
  signed.set(
    outTradeNo,
    await reply(merchant, {
      result_code: 'SUCCESS',
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      trade_type: 'JSAPI',
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
      total_fee: String(totalFee),
      out_trade_no: outTradeNo,
    }),
  )
}

/** A signed payment notification (§6.1 fields, HMAC-SHA256 without sign_type, as WeChat sends). */
export async function notification(merchant: Merchant, outTradeNo: string, totalFee: number): Promise<string> {
  const fields: Record<string, string> = {
    appid: merchant.appid,
    bank_type: 'CFT',
    cash_fee: String(totalFee),
    fee_type: 'CNY',
    is_subscribe: 'Y',
    mch_id: merchant.mchId,
    nonce_str: crypto.randomUUID().replaceAll('-', ''),
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    out_trade_no: outTradeNo,
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: '20261127131540',
    total_fee: String(totalFee),
    trade_type: 'JSAPI',
    transaction_id: `42000${outTradeNo.replace(/[^0-9A-Za-z]/g, '')}`.slice(0, 32),
  }
  fields.sign = await sign(fields, merchant.apiKey, 'HMAC-SHA256')
  return encode(fields)
}

/** The replacement for the isolate's fetch. */
export async function upstream(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : String(input))
  if (url.href === SHOP_URL) return new Response(null, { status: 200 })
  if (WECHAT_HOSTS.has(url.host)) {
    const v3 = url.pathname.startsWith('/v3/') ? v3Reply(url.pathname) : undefined
    if (v3) return v3
    if (url.pathname === '/pay/unifiedorder') return xml(unifiedReply)
    if (url.pathname === '/pay/closeorder') return xml(closeReply)
    if (url.pathname === '/pay/orderquery') {
      const body = typeof init?.body === 'string' ? init.body : await new Request(input, init).text()
      const outTradeNo = /<out_trade_no>(?:<!\[CDATA\[)?([^<\]]*)/.exec(body)?.[1] ?? ''
      const answer = signed.get(outTradeNo)
      if (answer) return xml(answer)
    }
  }
  strays.push(`${url.host}${url.pathname}`)
  throw new TypeError(`network error: the bench has no stand-in for ${url.host}${url.pathname}`)
}

async function reply(merchant: Merchant, fields: Record<string, string>): Promise<string> {
  const all: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: merchant.appid,
    mch_id: merchant.mchId,
    nonce_str: 'IITRi8Iabbblz1Jc',
    ...fields,
  }
  all.sign = await sign(all, merchant.apiKey, 'HMAC-SHA256')
  return encode(all)
}

function xml(body: string): Response {
  return new Response(body, { headers: { 'content-type': 'text/xml' } })
}
