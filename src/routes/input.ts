/**
 * @module
 * Request fields: form-encoded (or JSON) in, validated with zod before anything reaches WeChat.
 * Every rule is in fields.ts; every message names the field.
 */
import { createMiddleware } from 'hono/factory'
import type * as z from 'zod/mini'
import { fail } from '../errors'
import { type RawFields, readFields } from './body'

export { rules } from './fields'

const ASTRAL = /[\uD800-\uDFFF]/
// XML parsers turn \r into \n and refuse the other C0 controls, which would break the signature.
const hasControl = (value: string) => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0xfffe || code === 0xffff) return true
  }
  return false
}

/**
 * Drops empty values (they count as absent) and refuses characters v2 rejects, here rather than at
 * WeChat. Anything but a string is left for the schema, which names it as unknown or not text.
 */
function normalize(raw: RawFields): RawFields {
  const out: RawFields = Object.create(null)
  for (const [name, value] of Object.entries(raw)) {
    if (value === '' || value === null || value === undefined) continue
    out[name] = value
    if (typeof value !== 'string') continue
    if (ASTRAL.test(value)) {
      throw fail(
        'params',
        `${name}: must not contain emoji or other 4-byte UTF-8 characters (WeChat Pay v2 rejects them)`,
      )
    }
    if (hasControl(value)) throw fail('params', `${name}: must not contain control characters such as \\r`)
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
 * Validates the request's fields (form-encoded or JSON, UTF-8) against `schema` and puts the result
 * in `c.var.input`; any failure is `wxPayError.params` naming every field that is wrong.
 * @example
 * ```ts
 * const QueryInput = z.strictObject({ out_trade_no: rules.out_trade_no })
 * app.post('/queryOrder', input(QueryInput), (c) => c.json({ data: c.var.input.out_trade_no }))
 * ```
 */
export function input<T extends z.ZodMiniType>(schema: T) {
  return createMiddleware<{ Variables: { input: z.output<T> } }>(async (c, next) => {
    const fields = normalize(await readFields(c.req.raw))
    // Every rule is synchronous: no promise per check, as safeParseAsync would make.
    const result = schema.safeParse(fields)
    if (!result.success) throw fail('params', describeIssues(result.error))
    c.set('input', result.data)
    await next()
  })
}
