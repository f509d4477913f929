/**
 * @module
 * The business checks WeChat makes once a request is authentic, in its order: encoding,
 * merchant identity, required fields, then each field's length and format (reference §1, §3.1,
 * §3.3, §4.1, §5). Each returns the first failure, or `undefined` when the request passes.
 */
import type { Config } from '../config'
import type { Fields } from '../wechat/xml'
import { type Result, refuse } from './protocol'

/** Field lengths from the API tables (String(n)); counted in characters. */
const MAX_LENGTH: Record<string, number> = {
  appid: 32,
  mch_id: 32,
  device_info: 32,
  nonce_str: 32,
  sign: 64,
  body: 128, // String(127) on the 2025 page, 128 on older ones; the service allows 128 (reference §12)
  detail: 6144,
  attach: 127,
  out_trade_no: 32,
  transaction_id: 32,
  spbill_create_ip: 64,
  goods_tag: 32,
  notify_url: 256,
  product_id: 32,
  openid: 128,
  scene_info: 256,
  version: 32,
  out_refund_no: 64, // String(64) on current pages (refunds reference §1.1)
  refund_id: 32,
  refund_desc: 80,
  refund_account: 30,
}

/** Fields with a closed set of values (参数规定; 境内商户号仅支持 CNY). */
const ONE_OF: Record<string, readonly string[]> = {
  trade_type: ['JSAPI', 'NATIVE', 'APP', 'MWEB'],
  fee_type: ['CNY'],
  limit_pay: ['no_credit'],
  receipt: ['Y'],
  profit_sharing: ['Y', 'N'],
  refund_fee_type: ['CNY'],
  refund_account: ['REFUND_SOURCE_UNSETTLED_FUNDS', 'REFUND_SOURCE_RECHARGE_FUNDS'],
}

/** Fields with a shape. out_trade_no: the 统一下单 charset `0-9a-zA-Z_-|*` (no minimum: §12 disagrees). */
const FORMAT: Record<string, [RegExp, string]> = {
  out_trade_no: [/^[0-9A-Za-z_\-|*]+$/, '只能是数字、大小写字母_-|*'],
  transaction_id: [/^[0-9]+$/, '只能是数字'],
  total_fee: [/^[1-9][0-9]*$/, '必须是正整数,单位为分'],
  refund_fee: [/^[1-9][0-9]*$/, '必须是正整数,单位为分'],
  out_refund_no: [/^[0-9A-Za-z_\-|*@]+$/, '只能是数字、大小写字母_-|*@'],
  refund_id: [/^[0-9]+$/, '只能是数字'],
  offset: [/^[0-9]+$/, '必须是非负整数'],
  time_start: [/^[0-9]{14}$/, '格式为yyyyMMddHHmmss'],
  time_expire: [/^[0-9]{14}$/, '格式为yyyyMMddHHmmss'],
  spbill_create_ip: [/^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, '必须是IPv4或IPv6地址'],
}

// Above this a fen amount is not an Int in WeChat's tables (32-bit).
const MAX_FEE = 2 ** 31 - 1

// v2 takes only 1–3 byte UTF-8 (协议规则): a surrogate means a 4-byte character.
const ASTRAL = /[\uD800-\uDFFF]/

/** v2 refuses characters outside the Basic Multilingual Plane in any value. */
export function checkEncoding(fields: Fields): Result | undefined {
  for (const name of Object.keys(fields)) {
    if (ASTRAL.test(fields[name] ?? '')) return refuse('NOT_UTF8', `编码格式错误: ${name}含有四字节UTF-8字符`)
  }
  return undefined
}

/** The sandbox knows one merchant and the appids bound to it: the configured ones (§3.3 error table). */
export function checkMerchant(fields: Fields, config: Config): Result | undefined {
  if (!fields.appid) return refuse('APPID_NOT_EXIST', 'APPID不存在')
  if (!fields.mch_id || fields.mch_id !== config.mchId) return refuse('MCHID_NOT_EXIST', 'MCHID不存在')
  if (!config.appids.includes(fields.appid)) return refuse('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配')
  return undefined
}

/** Every name in `names` must be present and non-empty (empty values are not even signed). */
export function checkRequired(fields: Fields, names: readonly string[]): Result | undefined {
  const missing = names.filter((name) => !fields[name])
  return missing.length > 0 ? refuse('LACK_PARAMS', `缺少参数${missing.join(',')}`) : undefined
}

/** Lengths, closed sets and formats of every field present. */
export function checkFormats(fields: Fields): Result | undefined {
  for (const name of Object.keys(fields)) {
    const value = fields[name] ?? ''
    if (value === '') continue
    const max = MAX_LENGTH[name]
    if (Object.hasOwn(MAX_LENGTH, name) && max !== undefined && value.length > max) {
      return invalid(`${name}参数长度有误,最长${max}个字符`)
    }
    const allowed = Object.hasOwn(ONE_OF, name) ? ONE_OF[name] : undefined
    if (allowed && !allowed.includes(value)) return invalid(`${name}参数错误,取值为${allowed.join('|')}`)
    const format = Object.hasOwn(FORMAT, name) ? FORMAT[name] : undefined
    if (format && !format[0].test(value)) return invalid(`${name}参数格式错误,${format[1]}`)
  }
  if (fields.total_fee && Number(fields.total_fee) > MAX_FEE) return invalid('total_fee参数错误,金额超出上限')
  if (fields.refund_fee && Number(fields.refund_fee) > MAX_FEE) return invalid('refund_fee参数错误,金额超出上限')
  return undefined
}

/** notify_url: an absolute http(s) URL without query parameters (通知url…不能携带参数). */
export function checkNotifyUrl(value: string): Result | undefined {
  if (!/^https?:\/\/[^\s?#]+$/.test(value) || !URL.canParse(value)) {
    return invalid('notify_url参数格式错误,须为不带参数的http(s)地址')
  }
  return undefined
}

/** scene_info and detail travel as JSON strings inside the XML (§3.1, §11). */
export function checkJson(fields: Fields, names: readonly string[]): Result | undefined {
  for (const name of names) {
    const value = fields[name]
    if (!value) continue
    try {
      JSON.parse(value)
    } catch {
      return invalid(`${name}参数格式错误,须为JSON字符串`)
    }
  }
  return undefined
}

/** INVALID_REQUEST, WeChat's catch-all for a malformed parameter (参数错误). */
export function invalid(detail: string): Result {
  return refuse('INVALID_REQUEST', `参数错误: ${detail}`)
}
