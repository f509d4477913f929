/**
 * @module
 * Request fields: form-encoded (or JSON) in, validated with zod before anything reaches WeChat.
 * Every rule is in fields.ts; every message names the field.
 */
import { zValidator } from '@hono/zod-validator'
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { ZodSafeParseResult } from 'zod'
import type * as z from 'zod/mini'
import { fail } from '../errors'
import { type RawFields, readFields } from './body'

export { rules } from './fields'

// v2 rejects 4-byte UTF-8 (surrogates here); XML parsers turn \r into \n and refuse the other C0
// controls, which would break the signature. One test per value; the messages say which.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const REFUSED = /[\uD800-\uDFFF\x00-\x08\x0B-\x1F\uFFFE\uFFFF]/
const ASTRAL = /[\uD800-\uDFFF]/

/**
 * Drops empty values (they count as absent) and refuses characters v2 rejects, here rather than at
 * WeChat. Anything but a string is left for the schema, which names it as unknown or not text.
 */
function normalize(raw: RawFields): RawFields {
  const out: RawFields = Object.create(null)
  for (const name in raw) {
    const value = raw[name]
    if (value === '' || value === null || value === undefined) continue
    out[name] = value
    if (typeof value !== 'string' || !REFUSED.test(value)) continue
    if (ASTRAL.test(value)) {
      throw fail(
        'params',
        `${name}: must not contain emoji or other 4-byte UTF-8 characters (WeChat Pay v2 rejects them)`,
      )
    }
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

// The app's own error shape instead of the validator's default 400 with zod's issues.
const hook = (result: { success: boolean; error?: z.core.$ZodError }) => {
  if (!result.success && result.error) throw fail('params', describeIssues(result.error))
}
// Every rule is synchronous: no promise per check, as the validator's default safeParseAsync would
// make. zod/mini's result differs from classic zod's, which the option's type names, only in the
// error's class (both are $ZodError, which the hook reads).
const validationFunction = (schema: z.ZodMiniType, value: unknown) =>
  schema.safeParse(value) as unknown as ZodSafeParseResult<unknown>

/**
 * Validates the request's fields against `schema` with `@hono/zod-validator`, behind the strict
 * reader (body.ts): the reader decides what the fields are (UTF-8 only, JSON numbers as written,
 * `__proto__` a field like any other) and hands them to the validator through hono's body cache;
 * the validator's hook turns a failure into `wxPayError.params` naming every field that is wrong.
 * The result is in `c.var.input`. Its input type is the route's `json` for hono's typed client
 * (`hc`); a form body is validated the same way.
 * @example
 * ```ts
 * const QueryInput = z.strictObject({ out_trade_no: rules.out_trade_no })
 * app.post('/queryOrder', input(QueryInput), (c) => c.json({ data: c.var.input.out_trade_no }))
 * ```
 */
export function input<T extends z.ZodMiniType>(schema: T) {
  // The route's types come from the middleware below; these two only run.
  const any: z.ZodMiniType = schema
  const asJson: MiddlewareHandler = zValidator('json', any, hook, { validationFunction })
  const asForm: MiddlewareHandler = zValidator('form', any, hook, { validationFunction })
  return createMiddleware<
    { Variables: { input: z.output<T> } },
    string,
    { in: { json: z.input<T> }; out: { json: z.output<T> } }
  >(async (c, next) => {
    const { kind, fields } = await readFields(c.req.raw)
    const clean = normalize(fields)
    // hono keeps promises in its body cache (its type names the values).
    const cache = c.req.bodyCache as { text?: Promise<string>; formData?: Promise<FormData> }
    if (kind === 'json') {
      cache.text = Promise.resolve(JSON.stringify(clean))
      await asJson(c as unknown as Context, () => {
        c.set('input', c.req.valid('json'))
        return next()
      })
      return
    }
    cache.formData = Promise.resolve(formOf(clean))
    await asForm(c as unknown as Context, () => {
      const valid = c.req.valid('form' as never) as z.output<T>
      c.req.addValidatedData('json', valid as never)
      c.set('input', valid)
      return next()
    })
  })
}

/**
 * The fields as the validator reads a cached form: it calls `forEach` only, so this skips building a
 * FormData from fields the strict reader already has (a measurable part of /v1/pay/params).
 */
function formOf(fields: RawFields): FormData {
  const form = {
    forEach(visit: (value: unknown, name: string) => void) {
      for (const name in fields) {
        const value = fields[name]
        if (Array.isArray(value)) for (const one of value) visit(one, name)
        else visit(value, name)
      }
    },
  }
  return form as unknown as FormData
}
