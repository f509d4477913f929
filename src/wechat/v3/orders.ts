/**
 * @module
 * Orders between the v2 fields the service speaks and v3's JSON (v3 reference §6.1–§6.7, §10):
 * a unifiedorder request becomes the body of `POST /v3/pay/transactions/{jsapi|native|app|h5}`, and
 * a transaction (query reply or decrypted notification) becomes the fields of a v2 orderquery reply.
 */
import { fail } from '../../errors'
import type { Fields } from '../xml'
import { beijingCompact, rfc3339FromCompact } from './times'

/** v3's trade types by v2's (H5 was MWEB). */
export const ENDPOINTS = { JSAPI: 'jsapi', NATIVE: 'native', APP: 'app', MWEB: 'h5' } as const

// v2 fields that v3 has no place for and that change nothing for the payer (product_id is the
// NATIVE order's own number here, sign_type/nonce_str are v2 protocol).
// appid is the merchant's (the order's own appid when it names one: the caller passes it as `merchant.appid`).
const DROPPED = new Set(['product_id', 'sign_type', 'nonce_str', 'trade_type', 'appid'])
const MAPPED = new Set([
  'body',
  'out_trade_no',
  'total_fee',
  'spbill_create_ip',
  'notify_url',
  'attach',
  'detail',
  'time_expire',
  'goods_tag',
  'device_info',
  'openid',
  'scene_info',
])

/**
 * The path and body of a v3 order for the fields of a v2 unifiedorder.
 * @throws {PayError} `params` for what v3 cannot take: an out_trade_no under 6 characters, limit_pay, a malformed detail or scene_info.
 */
export function orderRequest(fields: Record<string, string>, merchant: { appid: string; mchid: string }) {
  const type = fields.trade_type as keyof typeof ENDPOINTS | undefined
  if (!type || !Object.hasOwn(ENDPOINTS, type))
    throw fail('params', 'trade_type must be one of JSAPI, NATIVE, APP, MWEB')
  for (const name of Object.keys(fields)) {
    if (!MAPPED.has(name) && !DROPPED.has(name)) throw fail('params', `${name}: not supported by WeChat Pay v3`)
  }
  const no = fields.out_trade_no ?? ''
  if (!/^[A-Za-z0-9_\-|*]{6,32}$/.test(no))
    throw fail('params', 'out_trade_no: must be 6–32 characters of A-Z a-z 0-9 _ - | * under WeChat Pay v3')
  const total = Number(fields.total_fee)
  if (!Number.isSafeInteger(total) || total < 1)
    throw fail('params', 'total_fee: must be a positive integer number of fen')
  const ip = fields.spbill_create_ip
  const body: Record<string, unknown> = {
    appid: merchant.appid,
    mchid: merchant.mchid,
    description: fields.body,
    out_trade_no: no,
    ...(fields.time_expire && { time_expire: rfc3339FromCompact(fields.time_expire) ?? fields.time_expire }),
    ...(fields.attach && { attach: fields.attach }),
    notify_url: fields.notify_url,
    ...(fields.goods_tag && { goods_tag: fields.goods_tag }),
    amount: { total, currency: 'CNY' },
    ...(type === 'JSAPI' && { payer: { openid: fields.openid } }),
    ...(fields.detail && { detail: detailOf(fields.detail) }),
    ...(ip && {
      scene_info: {
        payer_client_ip: ip,
        ...(fields.device_info && { device_id: fields.device_info }),
        ...(type === 'MWEB' && { h5_info: h5InfoOf(fields.scene_info) }),
      },
    }),
  }
  return { target: `/v3/pay/transactions/${ENDPOINTS[type]}`, body, type }
}

function json(text: string, name: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {}
  throw fail('params', `${name}: must be a JSON object`)
}

/** v2 `detail` (goods_id, wxpay_goods_id, price, receipt_id) in v3's names (merchant_goods_id, unit_price, invoice_id). */
function detailOf(text: string) {
  const detail = json(text, 'detail')
  const goods = Array.isArray(detail.goods_detail) ? (detail.goods_detail as Record<string, unknown>[]) : []
  return {
    ...(detail.cost_price !== undefined && { cost_price: detail.cost_price }),
    ...(detail.receipt_id !== undefined && { invoice_id: detail.receipt_id }),
    ...(goods.length > 0 && {
      goods_detail: goods.map((g) => ({
        merchant_goods_id: g.goods_id,
        ...(g.wxpay_goods_id !== undefined && { wechatpay_goods_id: g.wxpay_goods_id }),
        ...(g.goods_name !== undefined && { goods_name: g.goods_name }),
        quantity: g.quantity,
        unit_price: g.price,
      })),
    }),
  }
}

// v2 h5_info types and their v3 spelling (§6.4; the app spellings are unconfirmed, §11.3).
const H5_TYPES: Record<string, string> = { Wap: 'Wap', IOS: 'iOS', iOS: 'iOS', Android: 'Android' }

/** v2 MWEB scene_info `{"h5_info":{"type":"Wap","wap_url","wap_name"}}` as v3's h5_info. */
function h5InfoOf(text: string | undefined) {
  const info = json(text ?? '', 'scene_info').h5_info as Record<string, unknown> | undefined
  const type = typeof info?.type === 'string' ? H5_TYPES[info.type] : undefined
  if (!info || !type) throw fail('params', 'scene_info: must hold h5_info with type Wap, IOS or Android')
  const app = (info.wap_name ?? info.app_name) as string | undefined
  const url = info.wap_url as string | undefined
  return {
    type,
    ...(app !== undefined && { app_name: app }),
    ...(url !== undefined && { app_url: url }),
    ...(info.bundle_id !== undefined && { bundle_id: info.bundle_id }),
    ...(info.package_name !== undefined && { package_name: info.package_name }),
  }
}

/** A v3 transaction (§6.7) as v2 orderquery fields; amounts stay decimal text of fen, as v2 sends them. */
export function transactionFields(t: Record<string, unknown>): Fields {
  const amount = object(t.amount)
  const payer = object(t.payer)
  const scene = object(t.scene_info)
  const fields: Fields = {}
  const put = (name: string, value: unknown) => {
    if (typeof value === 'string' && value !== '') fields[name] = value
    else if (typeof value === 'number' && Number.isSafeInteger(value)) fields[name] = String(value)
  }
  put('appid', t.appid)
  put('mch_id', t.mchid)
  put('out_trade_no', t.out_trade_no)
  put('transaction_id', t.transaction_id)
  put('trade_type', t.trade_type)
  put('trade_state', t.trade_state)
  put('trade_state_desc', t.trade_state_desc)
  put('bank_type', t.bank_type)
  put('attach', t.attach)
  put('openid', payer.openid)
  put('device_info', scene.device_id)
  put('total_fee', amount.total)
  put('cash_fee', amount.payer_total)
  put('fee_type', amount.currency)
  put('cash_fee_type', amount.payer_currency)
  if (typeof t.success_time === 'string') {
    const end = beijingCompact(t.success_time)
    if (end === undefined) throw fail('upstream', 'WeChat sent a success_time that is not an RFC 3339 time')
    fields.time_end = end
  }
  const promotions = Array.isArray(t.promotion_detail) ? t.promotion_detail.map(object) : []
  if (promotions.length > 0) {
    let sum = 0
    promotions.forEach((p, n) => {
      put(`coupon_id_${n}`, p.coupon_id)
      // v3 says CASH / NOCASH; v2 said CASH / NO_CASH.
      put(`coupon_type_${n}`, p.type === 'NOCASH' ? 'NO_CASH' : p.type)
      put(`coupon_fee_${n}`, p.amount)
      if (typeof p.amount === 'number') sum += p.amount
    })
    fields.coupon_count = String(promotions.length)
    fields.coupon_fee = String(sum)
  }
  return fields
}

export function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}
