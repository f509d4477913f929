/**
 * @module
 * The field rules, from the v2 field tables (reference §1, §3): each validates a field and says the
 * same rule in the OpenAPI document (src/openapi), so the two cannot disagree. Every message names
 * the rule, and input.ts prefixes it with the field.
 */
import * as z from 'zod/mini'
import type { Config } from '../config'
import { fail } from '../errors'

const TRADE_TYPES = ['JSAPI', 'NATIVE', 'APP', 'MWEB'] as const

/** A field's rule: what validates it, and (the same) what the OpenAPI document says of it. */
type Rule = {
  message: string
  pattern?: RegExp
  maxLength?: number
  values?: readonly string[]
  test?: (value: string) => boolean
}

/** A string field that must satisfy `rule`; a missing one reads "is required". */
function text(rule: Rule) {
  const { message, pattern, maxLength, values, test } = rule
  const valid = (value: string) =>
    (!pattern || pattern.test(value)) &&
    (maxLength === undefined || chars(value) <= maxLength) &&
    (!values || values.includes(value)) &&
    (!test || test(value))
  const schema = z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a single text value') })
    .check(z.refine(valid, message))
  // src/openapi reads this: the document states the rule the route applies.
  z.globalRegistry.add(schema, {
    description: message,
    // JSON Schema patterns carry no flags: a rule with flags is stated in words only.
    ...(pattern && !pattern.flags && { pattern: pattern.source }),
    ...(maxLength !== undefined && { maxLength }),
    ...(values && { enum: values }),
  })
  return schema
}

const chars = (value: string) => [...value].length
const isJson = (value: string) => {
  try {
    JSON.parse(value)
    return true
  } catch {
    return false
  }
}
const isIp = (value: string) =>
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(value) ||
  (/^[0-9A-Fa-f:.]{2,45}$/.test(value) && value.includes(':') && URL.canParse(`http://[${value}]/`))
const BEIJING_OFFSET_MS = 8 * 3600_000
/** The moment a Beijing time (UTC+8) `yyyyMMddHHmmss` names, or `undefined` for no real date. */
const beijingMs = (value: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value)
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  const real = date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60
  return real ? date.getTime() - BEIJING_OFFSET_MS : undefined
}

// WeChat's daily bill neither quotes nor escapes: its values are split on `,\`` and its lines on
// line ends, so 商品名称 and 商户数据包 holding either could not be read back (refunds reference §4.3).
const fitsBill = (value: string) => !value.includes(',`') && !value.includes('\n')
const BILL_SAFE =
  'without a line break or a comma followed by a backtick (,`: they split the lines and values of WeChat’s daily bill)'

// WeChat refuses a time_expire less than a minute after the order is placed (统一下单 §time_expire).
const MIN_EXPIRY_MS = 60_000
const expiry = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a single text value') })
  .check(
    z.refine((v) => beijingMs(v) !== undefined, { message: 'must be a Beijing time yyyyMMddHHmmss', abort: true }),
    z.refine((v) => (beijingMs(v) ?? 0) - Date.now() >= MIN_EXPIRY_MS, {
      message: 'must be at least one minute from now (Beijing time, UTC+8)',
    }),
  )
z.globalRegistry.add(expiry, {
  description: 'must be a Beijing time (UTC+8) yyyyMMddHHmmss at least one minute from now',
  pattern: '^[0-9]{14}$',
})

// v2 types amounts as Int without a bound (reference §3.1); 15 digits keep every amount an exact
// JavaScript number (below 2^53) and are far above any real order.
const MAX_FEN_DIGITS = 15
const fen = () =>
  z.pipe(
    text({
      pattern: new RegExp(`^[1-9][0-9]{0,${MAX_FEN_DIGITS - 1}}$`),
      message: `must be a positive integer number of fen, at most ${MAX_FEN_DIGITS} digits (${'9'.repeat(MAX_FEN_DIGITS)})`,
    }),
    z.transform(Number),
  )

export const rules = {
  appid: text({
    pattern: /^[A-Za-z0-9_]{1,32}$/,
    message: 'must be one of the appids in WXPAY_APPID (up to 32 letters and digits); the first when absent',
  }),
  out_trade_no: text({
    pattern: /^[A-Za-z0-9_\-|*]{1,32}$/,
    message: 'must be 1–32 characters of A-Z a-z 0-9 _ - | *',
  }),
  total_fee: fen(),
  body: text({ maxLength: 128, test: fitsBill, message: `must be at most 128 characters, ${BILL_SAFE}` }),
  spbill_create_ip: text({ test: isIp, message: 'must be an IPv4 or IPv6 address' }),
  notify_url: text({
    maxLength: 256,
    pattern: /^https?:\/\/[^\s]+$/i,
    test: (v) => URL.canParse(v),
    message: 'must be an http(s) URL of at most 256 characters',
  }),
  openid: text({
    pattern: /^[A-Za-z0-9_-]{1,128}$/,
    message: "must be the payer's openid (up to 128 of A-Z a-z 0-9 _ -)",
  }),
  trade_type: z.pipe(
    text({ values: TRADE_TYPES, message: `must be one of ${TRADE_TYPES.join(', ')}` }),
    z.transform((v) => v as (typeof TRADE_TYPES)[number]),
  ),
  product_id: text({ pattern: /^[\x21-\x7e]{1,32}$/, message: 'must be 1–32 printable ASCII characters' }),
  attach: text({ maxLength: 127, test: fitsBill, message: `must be at most 127 characters, ${BILL_SAFE}` }),
  detail: text({ maxLength: 6000, test: isJson, message: 'must be a JSON string of at most 6000 characters' }),
  scene_info: text({ maxLength: 256, test: isJson, message: 'must be a JSON string of at most 256 characters' }),
  time_expire: expiry,
  goods_tag: text({ maxLength: 32, message: 'must be at most 32 characters' }),
  limit_pay: text({ values: ['no_credit'], message: 'must be no_credit' }),
  device_info: text({ pattern: /^[\x21-\x7e]{1,32}$/, message: 'must be 1–32 printable ASCII characters' }),
  transaction_id: text({
    pattern: /^[A-Za-z0-9]{1,32}$/,
    message: "must be WeChat's transaction_id (up to 32 letters and digits)",
  }),
  out_refund_no: text({
    pattern: /^[A-Za-z0-9_\-|*@]{1,64}$/,
    message: 'must be 1–64 characters of A-Z a-z 0-9 _ - | * @',
  }),
  refund_fee: fen(),
  refund_desc: text({ maxLength: 80, message: 'must be at most 80 characters' }),
  bill_date: text({
    pattern: /^\d{8}$/,
    test: (v) => beijingMs(`${v}000000`) !== undefined,
    message: 'must be a date yyyyMMdd',
  }),
  refresh: text({ values: ['0', '1'], message: 'must be 1 (run again) or 0' }),
}

/**
 * WeChat Pay v3 takes out_trade_no of 6–32 characters (v3 reference §6.1) where /v1 takes 1–32: under
 * v3 a shorter one is refused here, before the ledger or WeChat sees it.
 */
export function checkTradeNo(config: Config, outTradeNo: string | undefined): void {
  if (config.apiVersion === 'v3' && outTradeNo !== undefined && outTradeNo.length < 6)
    throw fail('params', 'out_trade_no: must be 6–32 characters under WeChat Pay v3 (WXPAY_API_VERSION=v3)')
}
