/**
 * @module
 * `POST /v3/pay/transactions/{jsapi,native,app,h5}` (reference §6.1–§6.4). An order is stored in
 * the same record as a v2 order (orders.ts, `sign_type: 'RSA'`), its fields under their v2 names,
 * so the developer routes, the bill and the checkout serve both versions. Re-placing an order with
 * the same parameters answers its current prepay_id (renewed after two hours); other parameters, or
 * an out_trade_no used through v2, are `403 OUT_TRADE_NO_USED`. time_expire is kept as sent (the
 * sandbox does not expire orders by it; WeChat raises it to a minute ahead at least, §6.1).
 */
import { codeUrl, mwebUrl, prepayId } from '../ids'
import { loadOrder, type Order, type Prepay, saveOrder } from '../orders'
import { PREPAY_TTL_MS } from '../unifiedorder'
import { checkNotifyUrl, OrderBody, paramError, parseBody } from './fields'
import { refuse, type WechatError } from './protocol'
import type { Settings } from './settings'

/** The four order endpoints and the trade_type each places (H5 is still MWEB, §6.7). */
export const KINDS = { jsapi: 'JSAPI', native: 'NATIVE', app: 'APP', h5: 'MWEB' } as const
export type Kind = keyof typeof KINDS

/** A success: 200 with a body, or 204. */
export type Answer = { status: 200 | 204; body?: unknown }

/** Places (or re-places) an order of `kind` for an authentic request body. */
export async function placeOrder(options: {
  kv: KVNamespace
  settings: Settings
  kind: Kind
  json: unknown
  at: number
}): Promise<Answer | WechatError> {
  const { kv, settings, kind, json, at } = options
  const body = parseBody(OrderBody, json)
  if ('code' in body && 'status' in body) return body
  const problem =
    (body.mchid === settings.mchId
      ? undefined
      : refuse(400, 'MCH_NOT_EXISTS', '商户号不存在或与签名中的商户号不一致')) ??
    (settings.appids.includes(body.appid) ? undefined : refuse(400, 'APPID_MCHID_NOT_MATCH', 'appid和mchid不匹配')) ??
    (kind === 'jsapi' && !body.payer ? paramError('/payer', '缺少必填参数') : undefined) ??
    (kind === 'h5' && !body.scene_info?.h5_info ? paramError('/scene_info/h5_info', '缺少必填参数') : undefined) ??
    checkNotifyUrl(body.notify_url)
  if (problem) return problem
  const request = stored(kind, body)
  const existing = await loadOrder(kv, body.out_trade_no)
  if (!existing) {
    const order: Order = {
      v: 1,
      out_trade_no: body.out_trade_no,
      request,
      sign_type: 'RSA',
      trade_state: 'NOTPAY',
      created_at: at,
      prepay: newPrepay(kind, at),
      notification: { delivered: false, attempts: [] },
    }
    await saveOrder(kv, order)
    return success(kind, order.prepay)
  }
  if (existing.trade_state === 'SUCCESS') return refuse(400, 'ORDERPAID', '该订单已支付')
  if (existing.trade_state === 'CLOSED') return refuse(400, 'ORDER_CLOSED', '当前订单已关闭,请重新下单')
  if (existing.sign_type !== 'RSA' || !sameParameters(existing.request, request)) {
    return refuse(403, 'OUT_TRADE_NO_USED', '商户订单号重复,请核实商户订单号是否重复提交')
  }
  if (at - existing.prepay.at >= PREPAY_TTL_MS) {
    existing.prepay = newPrepay(kind, at)
    await saveOrder(kv, existing)
  }
  return success(kind, existing.prepay)
}

function success(kind: Kind, prepay: Prepay): Answer {
  if (kind === 'native') return { status: 200, body: { code_url: prepay.code_url } }
  if (kind === 'h5') return { status: 200, body: { h5_url: prepay.mweb_url } }
  return { status: 200, body: { prepay_id: prepay.id } }
}

function newPrepay(kind: Kind, at: number): Prepay {
  const id = prepayId(at)
  if (kind === 'native') return { id, at, code_url: codeUrl() }
  if (kind === 'h5') return { id, at, mweb_url: mwebUrl(id) }
  return { id, at }
}

/**
 * The order's fields under their v2 names (what the bill, the views and orderquery read); nested
 * v3 objects are kept as canonical JSON, so two requests are "the same" exactly when these match.
 */
function stored(kind: Kind, body: OrderBody): Record<string, string> {
  const out: Record<string, string> = {
    appid: body.appid,
    mch_id: body.mchid,
    body: body.description,
    out_trade_no: body.out_trade_no,
    total_fee: String(body.amount.total),
    notify_url: body.notify_url,
    trade_type: KINDS[kind],
  }
  if (body.payer) out.openid = body.payer.openid
  if (body.attach !== undefined) out.attach = body.attach
  if (body.time_expire !== undefined) out.time_expire = body.time_expire
  if (body.goods_tag !== undefined) out.goods_tag = body.goods_tag
  if (body.support_fapiao !== undefined) out.support_fapiao = String(body.support_fapiao)
  if (body.scene_info) {
    out.spbill_create_ip = body.scene_info.payer_client_ip
    out.scene_info = canonical(body.scene_info)
  }
  if (body.detail) out.detail = canonical(body.detail)
  if (body.settle_info?.profit_sharing !== undefined) out.profit_sharing = body.settle_info.profit_sharing ? 'Y' : 'N'
  return out
}

function sameParameters(a: Record<string, string>, b: Record<string, string>): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const name of names) {
    if ((Object.hasOwn(a, name) ? a[name] : undefined) !== (Object.hasOwn(b, name) ? b[name] : undefined)) return false
  }
  return true
}

/** JSON with object keys sorted, so equal values compare equal whatever order they were sent in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  )
}
