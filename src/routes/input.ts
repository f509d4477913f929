/**
 * @module
 * Request fields: form-encoded (or JSON) in, validated with zod before anything reaches WeChat.
 * Every rule comes from the v2 field tables (reference §1, §3); every message names the field.
 */
import { zValidator } from '@hono/zod-validator'
import { createMiddleware } from 'hono/factory'
import * as z from 'zod/mini'
import { fail } from '../errors'

const TRADE_TYPES = ['JSAPI', 'NATIVE', 'APP', 'MWEB'] as const
const ASTRAL = /[\uD800-\uDFFF]/
// XML parsers turn \r into \n and refuse the other C0 controls, which would break the signature.
const hasControl = (value: string) => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0xfffe || code === 0xffff) return true
  }
  return false
}

/** A string field that must satisfy `rule`; a missing one reads "is required". */
function text(rule: (value: string) => boolean, message: string) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a single text value') })
    .check(z.refine(rule, message))
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
const isBeijingTime = (value: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value)
  if (!m) return false
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60
}

export const rules = {
  out_trade_no: text((v) => /^[A-Za-z0-9_\-|*]{1,32}$/.test(v), 'must be 1–32 characters of A-Z a-z 0-9 _ - | *'),
  total_fee: z.pipe(
    text((v) => /^[1-9][0-9]{0,14}$/.test(v), 'must be a positive integer number of fen'),
    z.transform(Number),
  ),
  body: text((v) => chars(v) <= 128, 'must be at most 128 characters'),
  spbill_create_ip: text(isIp, 'must be an IPv4 or IPv6 address'),
  notify_url: text(
    (v) => v.length <= 256 && /^https?:\/\/[^\s]+$/i.test(v) && URL.canParse(v),
    'must be an http(s) URL of at most 256 characters',
  ),
  openid: text((v) => /^[A-Za-z0-9_-]{1,128}$/.test(v), "must be the payer's openid (up to 128 of A-Z a-z 0-9 _ -)"),
  trade_type: z.pipe(
    text((v) => (TRADE_TYPES as readonly string[]).includes(v), `must be one of ${TRADE_TYPES.join(', ')}`),
    z.transform((v) => v as (typeof TRADE_TYPES)[number]),
  ),
  product_id: text((v) => /^[\x21-\x7e]{1,32}$/.test(v), 'must be 1–32 printable ASCII characters'),
  attach: text((v) => chars(v) <= 127, 'must be at most 127 characters'),
  detail: text((v) => chars(v) <= 6000 && isJson(v), 'must be a JSON string of at most 6000 characters'),
  scene_info: text((v) => chars(v) <= 256 && isJson(v), 'must be a JSON string of at most 256 characters'),
  time_expire: text(isBeijingTime, 'must be a Beijing time yyyyMMddHHmmss'),
  goods_tag: text((v) => chars(v) <= 32, 'must be at most 32 characters'),
  limit_pay: text((v) => v === 'no_credit', 'must be no_credit'),
  device_info: text((v) => /^[\x21-\x7e]{1,32}$/.test(v), 'must be 1–32 printable ASCII characters'),
  transaction_id: text(
    (v) => /^[A-Za-z0-9]{1,32}$/.test(v),
    "must be WeChat's transaction_id (up to 32 letters and digits)",
  ),
  out_refund_no: text((v) => /^[A-Za-z0-9_\-|*@]{1,64}$/.test(v), 'must be 1–64 characters of A-Z a-z 0-9 _ - | * @'),
  refund_fee: z.pipe(
    text((v) => /^[1-9][0-9]{0,14}$/.test(v), 'must be a positive integer number of fen'),
    z.transform(Number),
  ),
  refund_desc: text((v) => chars(v) <= 80, 'must be at most 80 characters'),
  bill_date: text((v) => /^\d{8}$/.test(v) && isBeijingTime(`${v}000000`), 'must be a date yyyyMMdd'),
  refresh: text((v) => v === '0' || v === '1', 'must be 1 (run again) or 0'),
}

/**
 * Makes one flat record of strings from a form or JSON body: empty values count as absent, JSON
 * numbers become their decimal text, and characters v2 rejects are refused here, not by WeChat.
 */
function normalize(raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw fail('params', 'the body must be an object of fields')
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (value === '' || value === null || value === undefined) continue
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = String(value)
    else if (typeof value === 'string') out[name] = value
    else throw fail('params', `${name}: must be a single text value`)
    if (ASTRAL.test(out[name] as string)) {
      throw fail(
        'params',
        `${name}: must not contain emoji or other 4-byte UTF-8 characters (WeChat Pay v2 rejects them)`,
      )
    }
    if (hasControl(out[name] as string))
      throw fail('params', `${name}: must not contain control characters such as \\r`)
  }
  return out
}

function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => `${key}: unknown field`)
        : [`${issue.path.join('.') || 'body'}: ${issue.message}`],
    )
    .join('; ')
}

/**
 * Validates the body against `schema` (form-encoded or JSON) and puts the result in `c.var.input`.
 * @example pay.post('/queryOrder', input(z.strictObject({ out_trade_no: rules.out_trade_no })), (c) => c.var.input)
 */
export function input<T extends z.ZodMiniType>(schema: T) {
  const wrapped = z.pipe(
    z.transform(normalize),
    schema as unknown as z.ZodMiniType<z.output<T>, Record<string, string>>,
  )
  const hook = (result: { success: boolean; error?: z.core.$ZodError }) => {
    if (!result.success && result.error) throw fail('params', describeIssues(result.error))
  }
  // Every rule is synchronous: parse without the promise per check that safeParseAsync makes.
  const form = zValidator('form', wrapped, hook, {
    validationFunction: (schema, value) => schema.safeParse(value) as never,
  })
  const json = zValidator('json', wrapped, hook, {
    validationFunction: (schema, value) => schema.safeParse(value) as never,
  })
  return createMiddleware<{ Variables: { input: z.output<T> } }>(async (c, next) => {
    const type = c.req.header('content-type') ?? ''
    const validator = /^application\/json\b/i.test(type)
      ? json
      : /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)
        ? form
        : undefined
    if (!validator) throw fail('params', 'send the fields as application/x-www-form-urlencoded (or application/json)')
    // The validators are typed for a context without variables; this one only adds `input`.
    return validator(c as never, async () => {
      c.set('input', (c.req.valid as (target: string) => z.output<T>)(validator === json ? 'json' : 'form'))
      await next()
    })
  })
}
