/**
 * @module
 * Placing an order (统一下单) once: the same order sent again is answered from its record while
 * the prepay_id is valid; the same out_trade_no with other parameters never reaches WeChat.
 */
import type { Config } from '../config'
import { fail, wechatError } from '../errors'
import { getOrder, type OrderRecord, saveOrder } from '../orders/store'
import type { Client } from '../wechat/client'
import { sha256Hex } from '../wechat/sign'
import type { OrderInput } from './schemas'

export type PlaceDeps = { config: Config; kv: KVNamespace; wechat: Client; origin: string; now?: () => number }

// prepay_id and code_url live 2 h, mweb_url 5 min (reference §3.2); reuse with a minute to spare.
const VALIDITY_MS = { MWEB: 5 * 60_000, other: 2 * 3600_000 }
const REUSE_MARGIN_MS = 60_000

/** Places the order, or returns the record of the identical order placed before. */
export async function placeOrder(deps: PlaceDeps, input: OrderInput): Promise<OrderRecord> {
  const { config, kv, wechat, now = Date.now } = deps
  const { notify_url: shopNotifyUrl, total_fee, ...rest } = input
  // WeChat notifies this service, which verifies and relays to the shop's notify_url.
  const fields: Record<string, string> = {
    ...(Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Record<string, string>),
    total_fee: String(total_fee),
    notify_url: `${config.publicUrl ?? deps.origin}/v1/pay/notify`,
  }
  if (input.trade_type === 'NATIVE') fields.product_id ??= input.out_trade_no
  const fingerprint = await fingerprintOf(
    { ...fields, appid: config.appid, mch_id: config.mchId, sign_type: config.signType },
    shopNotifyUrl,
  )

  const existing = await getOrder(kv, input.out_trade_no)
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw wechatError(
        'OUT_TRADE_NO_USED',
        `out_trade_no ${input.out_trade_no} was already used with other parameters`,
      )
    }
    if (existing.trade_state === 'SUCCESS' || existing.trade_state === 'REFUND') {
      throw wechatError('ORDERPAID', `order ${input.out_trade_no} is already paid`)
    }
    if (existing.trade_state === 'CLOSED' || existing.trade_state === 'REVOKED') {
      throw wechatError(
        'ORDERCLOSED',
        `order ${input.out_trade_no} is closed: place a new order with a new out_trade_no`,
      )
    }
    if (existing.prepay_id && Date.parse(existing.prepay_expires_at ?? '') - now() > REUSE_MARGIN_MS) return existing
  }

  const reply = await wechat.call('/pay/unifiedorder', fields)
  if (!reply.prepay_id) throw fail('upstream', 'the unifiedorder reply has no prepay_id')
  const placed = {
    prepay_id: reply.prepay_id,
    prepay_expires_at: new Date(
      now() + (input.trade_type === 'MWEB' ? VALIDITY_MS.MWEB : VALIDITY_MS.other),
    ).toISOString(),
    code_url: reply.code_url,
    mweb_url: reply.mweb_url,
  }
  const record = await saveOrder(kv, input.out_trade_no, placed, {
    trade_type: input.trade_type,
    body: input.body,
    total_fee,
    openid: input.openid,
    attach: input.attach,
    notify_url: shopNotifyUrl,
    fingerprint,
    trade_state: 'NOTPAY',
    ...placed,
  })
  if (!record) throw fail('internal', `order record for ${input.out_trade_no} was not written`)
  return record
}

/** SHA-256 over every field sent to unifiedorder but nonce_str, sign and time_start, plus the shop's notify_url. */
async function fingerprintOf(fields: Record<string, string>, shopNotifyUrl: string): Promise<string> {
  const canonical = Object.keys(fields)
    .filter((name) => !['nonce_str', 'sign', 'time_start'].includes(name))
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .concat(`shop_notify_url=${shopNotifyUrl}`)
    .join('\n')
  return sha256Hex(canonical)
}
