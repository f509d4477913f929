/**
 * @module
 * Reads a request's fields, form-encoded or JSON, as UTF-8 text. v2 signs and WeChat reads UTF-8
 * only, so a body or a field in another encoding (GBK, say) is refused here, naming it, instead of
 * reaching WeChat as U+FFFD. The result has no prototype: `__proto__` is a field like any other.
 */
import { fail } from '../errors'

/** Field name → value (a string, an array for a repeated field, or whatever JSON held). */
export type RawFields = Record<string, unknown>

/** How the body was sent: the validator behind this reader takes JSON as `json`, the others as `form`. */
export type BodyKind = 'json' | 'form' | 'multipart'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

const NOT_UTF8 = 'request body: is not valid UTF-8 (send every field as UTF-8)'
const UNPARSABLE = 'request body could not be parsed: send form fields or a JSON object'
// curl -d sends a JSON body as a form, whose one field is then named `{"body":…`: say so.
const looksLikeJson = (text: string) => /^\s*\{/.test(text)
const jsonHint = (came: string) =>
  `request body: looks like JSON but came ${came}; send it with Content-Type: application/json`

/** The request's fields; throws `params` for a media type, a charset or bytes it cannot take. */
export async function readFields(request: Request): Promise<{ kind: BodyKind; fields: RawFields }> {
  const [type = '', ...parameters] = (request.headers.get('content-type') ?? '').split(';').map((part) => part.trim())
  const kind = /^application\/json$/i.test(type)
    ? 'json'
    : /^application\/x-www-form-urlencoded$/i.test(type)
      ? 'form'
      : /^multipart\/form-data$/i.test(type)
        ? 'multipart'
        : undefined
  if (!kind) {
    const came = type ? `as ${type.slice(0, 64)}` : 'with no Content-Type'
    if (looksLikeJson(await request.text().catch(() => ''))) throw fail('params', jsonHint(came))
    throw fail('params', `send the fields as application/x-www-form-urlencoded (or application/json), not ${came}`)
  }
  const charset = parameters.find((parameter) => /^charset=/i.test(parameter))?.slice(8)
  if (charset !== undefined && !/^"?utf-?8"?$/i.test(charset)) {
    throw fail('params', `request body: Content-Type declares charset=${charset.slice(0, 32)}; send UTF-8`)
  }
  const bytes = await request.arrayBuffer()
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw fail('params', NOT_UTF8)
  }
  if (kind === 'json') return { kind, fields: parseJson(text) }
  if (kind === 'form') {
    if (looksLikeJson(text)) throw fail('params', jsonHint(`as ${type} (what curl -d sends)`))
    return { kind, fields: parseForm(text) }
  }
  const form = await new Response(bytes, {
    headers: { 'content-type': type + parameters.map((p) => `;${p}`).join('') },
  })
    .formData()
    .catch(() => {
      throw fail('params', UNPARSABLE)
    })
  return { kind, fields: collect(form.entries()) }
}

/** JSON numbers keep the text they were written as, so `1e2` or `101.0` is not silently `100` or `101`. */
function parseJson(text: string): RawFields {
  let value: unknown
  try {
    value = JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' ? (context?.source ?? String(value)) : value,
    )
  } catch {
    throw fail('params', UNPARSABLE)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail('params', 'the body must be an object of fields')
  return collect(Object.entries(value))
}

/** `application/x-www-form-urlencoded`: each name and value must decode to UTF-8 (WHATWG URL §5.1). */
function parseForm(text: string): RawFields {
  const pairs: [string, string][] = []
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const at = pair.indexOf('=')
    const name = decode(at < 0 ? pair : pair.slice(0, at), 'request body')
    pairs.push([name, decode(at < 0 ? '' : pair.slice(at + 1), name)])
  }
  return collect(pairs)
}

function decode(text: string, field: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw fail('params', `${field.slice(0, 64)}: is not valid UTF-8 (percent-encode the UTF-8 bytes of each field)`)
  }
}

function collect(entries: Iterable<[string, unknown]>): RawFields {
  const fields: RawFields = Object.create(null)
  for (const [name, value] of entries) {
    const prior = fields[name]
    fields[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
  }
  return fields
}
