/**
 * @module
 * Field rules of the v3 bodies, from the API tables (reference §6.1–§6.4, §6.10): string(n) limits
 * counted in characters, out_trade_no 6–32 of `0-9a-zA-Z_-|*`, integer fen, currency CNY, notify_url
 * https without a query. A failure is `400 PARAM_ERROR` naming the field as a JSON pointer.
 */
import * as z from 'zod/mini'
import { refuse, type WechatError } from './protocol'

/** Above this a fen amount is not an int in WeChat's tables (32-bit). */
const MAX_FEE = 2 ** 31 - 1

/** Characters, 1 to `max` (string(n) in the tables). */
const text = (max: number) =>
  z.string(`须为字符串`).check(z.minLength(1, '不能为空'), z.maxLength(max, `长度不能超过${max}个字符`))

const fen = z.int('须为整数,单位为分').check(z.minimum(1, '须大于0'), z.maximum(MAX_FEE, '超出上限'))

/** "要求6-32个字符内,只能是数字、大小写字母_-|*" (§6.1). */
export const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/
/** out_refund_no string(64): "数字、大小写字母_-|*@" (§6.10). */
export const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/

const outTradeNo = z.string('须为字符串').check(z.regex(OUT_TRADE_NO, '须为6-32个字符,只能是数字、大小写字母_-|*'))
const ip = z
  .string('须为字符串')
  .check(z.regex(/^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, '须为IPv4或IPv6地址'))
/** RFC 3339 with seconds and an offset, e.g. `2026-01-01T08:30:00+08:00` (§6.1). */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/
const time = z
  .string('须为字符串')
  .check(
    z.refine((v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)), '须为RFC3339格式,如2026-01-01T08:30:00+08:00'),
  )

const SceneInfo = z.object({
  payer_client_ip: ip,
  device_id: z.optional(text(32)),
  store_info: z.optional(
    z.object({
      id: text(32),
      name: z.optional(text(256)),
      area_code: z.optional(text(32)),
      address: z.optional(text(512)),
    }),
  ),
  h5_info: z.optional(
    z.object({
      type: z.enum(['Wap', 'iOS', 'Android'], '须为Wap、iOS或Android'),
      app_name: z.optional(text(64)),
      app_url: z.optional(text(128)),
      bundle_id: z.optional(text(128)),
      package_name: z.optional(text(128)),
    }),
  ),
})

/** The body of `POST /v3/pay/transactions/{jsapi,native,app,h5}`. */
export const OrderBody = z.object({
  appid: text(32),
  mchid: text(32),
  description: text(127),
  out_trade_no: outTradeNo,
  time_expire: z.optional(time),
  attach: z.optional(text(128)),
  notify_url: text(255),
  goods_tag: z.optional(text(32)),
  support_fapiao: z.optional(z.boolean('须为布尔值')),
  amount: z.object({ total: fen, currency: z.optional(z.literal('CNY', '境内商户号仅支持CNY')) }, '须为对象'),
  payer: z.optional(z.object({ openid: text(128) }, '须为对象')),
  detail: z.optional(z.record(z.string(), z.unknown(), '须为对象')),
  scene_info: z.optional(SceneInfo),
  settle_info: z.optional(z.object({ profit_sharing: z.optional(z.boolean('须为布尔值')) })),
})
export type OrderBody = z.infer<typeof OrderBody>

/** The body of `POST /v3/refund/domestic/refunds`. */
export const RefundBody = z.object({
  transaction_id: z.optional(z.string('须为字符串').check(z.regex(/^[0-9]{1,32}$/, '须为数字'))),
  out_trade_no: z.optional(outTradeNo),
  out_refund_no: z.string('须为字符串').check(z.regex(OUT_REFUND_NO, '须为1-64个字符,只能是数字、大小写字母_-|*@')),
  reason: z.optional(z.string('须为字符串').check(z.maxLength(80, '长度不能超过80个字符'))),
  notify_url: z.optional(text(255)),
  funds_account: z.optional(z.enum(['AVAILABLE', 'UNSETTLED'], '须为AVAILABLE或UNSETTLED')),
  amount: z.object({ refund: fen, total: fen, currency: z.literal('CNY', '境内商户号仅支持CNY,且必填') }, '须为对象'),
})
export type RefundBody = z.infer<typeof RefundBody>

/** The body of `POST …/out-trade-no/{out_trade_no}/close`. */
export const CloseBody = z.object({ mchid: text(32) })

/** Parses `value` with `schema`, or answers PARAM_ERROR naming the first field at fault. */
export function parseBody<T>(schema: z.ZodMiniType<T>, value: unknown): T | WechatError {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = `/${(issue?.path ?? []).map(String).join('/')}`
  const problem = issue?.code === 'invalid_type' && issue.input === undefined ? '缺少必填参数' : (issue?.message ?? '')
  return paramError(field, problem)
}

/** `400 PARAM_ERROR`; `field` is a JSON pointer into the body, or a query parameter's name. */
export function paramError(field: string, issue: string, location: 'body' | 'query' = 'body'): WechatError {
  return refuse(400, 'PARAM_ERROR', `参数错误: ${field} ${issue}`, { field, issue, location })
}

/**
 * notify_url: https, no query string ("不能携带参数", §5.3). One difference from WeChat: http is
 * accepted for loopback and the reserved `.localhost` and `.test` names, where the service runs
 * under `npm run dev` and in tests; WeChat could never reach those anyway.
 */
export function checkNotifyUrl(value: string, field = '/notify_url'): WechatError | undefined {
  let url: URL | undefined
  try {
    url = /^https?:\/\/[^\s?#]+$/.test(value) ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (!url) return paramError(field, '须为不带参数的https地址')
  const local = /^(localhost|127\.0\.0\.1|\[::1\])$|\.(localhost|test)$/.test(url.hostname)
  if (url.protocol !== 'https:' && !local) return paramError(field, '须为https地址')
  return undefined
}
