/**
 * @module
 * 统一下单 (reference §3): create an order in state NOTPAY with a prepay_id valid two hours, or
 * answer a re-entry with the same out_trade_no.
 *
 * Re-entry (§3.4) is accepted only with the same parameters. "Same" compares every field but
 * `sign`, `nonce_str` (fresh on every call by rule) and `time_start` (a client may stamp each
 * attempt); `sign_type` is compared after normalising absent to MD5, because the order's
 * notification is signed with the type it was created with. Anything else differing is
 * `INVALID_REQUEST 201 商户订单号重复`, as observed from WeChat.
 */

import type { SignType } from '../wechat/sign'
import type { Fields } from '../wechat/xml'
import { codeUrl, mwebUrl, prepayId } from './ids'
import { loadOrder, type Order, type Prepay, saveOrder } from './orders'
import { type Result, refuse } from './protocol'
import { checkJson, checkNotifyUrl, checkRequired, invalid } from './rules'
import { beijingMs, now } from './time'

const REQUIRED = [
  'nonce_str',
  'body',
  'out_trade_no',
  'total_fee',
  'spbill_create_ip',
  'notify_url',
  'trade_type',
] as const

/** Fields a trade type cannot do without (§3.1: openid for JSAPI, product_id for NATIVE, scene_info for H5). */
const REQUIRED_FOR: Record<string, string> = { JSAPI: 'openid', NATIVE: 'product_id', MWEB: 'scene_info' }

/** prepay_id (and code_url) live two hours (§3.2). */
export const PREPAY_TTL_MS = 2 * 60 * 60 * 1000

// time_expire: newer docs advise at least one minute ahead; older ones demand five (§12).
const MIN_EXPIRE_MS = 60 * 1000

// Not compared on re-entry: see the module comment.
const NOT_COMPARED = new Set(['sign', 'nonce_str', 'sign_type', 'time_start'])

/** Handles a verified, merchant-checked unifiedorder request. */
export async function unifiedOrder(kv: KVNamespace, fields: Fields, signType: SignType): Promise<Result> {
  const tradeType = fields.trade_type ?? ''
  const conditional = Object.hasOwn(REQUIRED_FOR, tradeType) ? [REQUIRED_FOR[tradeType] as string] : []
  const problem =
    checkRequired(fields, [...REQUIRED, ...conditional]) ??
    checkNotifyUrl(fields.notify_url ?? '') ??
    checkJson(fields, ['detail', 'scene_info'])
  if (problem) return problem
  const outTradeNo = fields.out_trade_no as string
  const at = now()
  const existing = await loadOrder(kv, outTradeNo)
  if (!existing) {
    const expire = checkExpire(fields.time_expire, at)
    if (expire) return expire
    const order: Order = {
      v: 1,
      out_trade_no: outTradeNo,
      request: stored(fields),
      sign_type: signType,
      trade_state: 'NOTPAY',
      created_at: at,
      prepay: newPrepay(tradeType, at),
      notification: { delivered: false, attempts: [] },
    }
    await saveOrder(kv, order)
    return success(order)
  }
  if (existing.trade_state === 'SUCCESS') return refuse('ORDERPAID', '商户订单已支付')
  if (existing.trade_state === 'CLOSED') return refuse('ORDERCLOSED', '订单已关闭')
  if (!sameParameters(existing, fields, signType)) return refuse('INVALID_REQUEST', '201 商户订单号重复')
  if (at - existing.prepay.at >= PREPAY_TTL_MS) {
    existing.prepay = newPrepay(tradeType, at)
    await saveOrder(kv, existing)
  }
  return success(existing)
}

function success(order: Order): Result {
  const { prepay, request } = order
  const fields: Record<string, string> = { trade_type: request.trade_type ?? '', prepay_id: prepay.id }
  if (request.device_info) fields.device_info = request.device_info
  if (prepay.code_url) fields.code_url = prepay.code_url
  if (prepay.mweb_url) fields.mweb_url = prepay.mweb_url
  return { ok: true, fields }
}

function newPrepay(tradeType: string, at: number): Prepay {
  const id = prepayId(at)
  if (tradeType === 'NATIVE') return { id, at, code_url: codeUrl() }
  if (tradeType === 'MWEB') return { id, at, mweb_url: mwebUrl(id) }
  return { id, at }
}

function stored(fields: Fields): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  for (const name of Object.keys(fields)) {
    const value = fields[name]
    // Empty values are not signed, so they are not parameters either.
    if (name !== 'sign' && name !== 'nonce_str' && name !== 'sign_type' && value) out[name] = value
  }
  return out
}

function sameParameters(order: Order, fields: Fields, signType: SignType): boolean {
  if (order.sign_type !== signType) return false
  const given = stored(fields)
  const names = new Set([...Object.keys(order.request), ...Object.keys(given)])
  for (const name of names) {
    if (!NOT_COMPARED.has(name) && own(order.request, name) !== own(given, name)) return false
  }
  return true
}

function own(record: Record<string, string>, name: string): string | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined
}

function checkExpire(value: string | undefined, at: number): Result | undefined {
  if (!value) return undefined
  const expires = beijingMs(value)
  if (expires === undefined) return invalid('time_expire参数格式错误,格式为yyyyMMddHHmmss')
  if (expires - at < MIN_EXPIRE_MS) return invalid('time_expire时间过短,至少1分钟')
  return undefined
}
