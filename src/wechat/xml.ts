/**
 * @module
 * The flat `<xml>` codec that WeChat Pay v2 speaks (协议规则: root `xml`, one element per field,
 * no attributes, no nesting). Written by hand so that nothing in it can resolve an entity or
 * a DTD: DOCTYPE, ENTITY and every other `<!` construct but CDATA are refused (XXE guidance).
 */

/**
 * Decoded fields. The object inherits nothing (its prototype is a frozen, empty object without a
 * prototype), so a `__proto__` or `constructor` element is an ordinary, inert own key.
 */
export type Fields = Record<string, string>

// A constructor rather than Object.create(null): its objects keep the engine's fast property
// layout, which makes filling them about twice as fast, and they still reach no Object.prototype.
function FieldBag() {}
FieldBag.prototype = Object.freeze(Object.create(null))
const newFields = () => new (FieldBag as unknown as new () => Fields)()

/** Thrown for any input the codec refuses; `message` says what was wrong and is safe to show. */
export class XmlError extends Error {
  override readonly name = 'XmlError'
}

/** Inputs longer than this (in UTF-16 units) are refused before any parsing. */
export const MAX_XML_LENGTH = 64 * 1024
/** More elements than this are refused: real messages carry a few dozen. */
export const MAX_FIELDS = 256

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
// Characters v2 cannot carry: anything outside the Basic Multilingual Plane (4-byte UTF-8).
const ASTRAL = /[\uD800-\uDFFF]/

export type DecodeOptions = {
  /**
   * The root element's name: `xml` for every message, `root` for a refund notification's
   * decrypted `req_info` (退款结果通知). Must be a simple element name.
   */
  root?: string
}

/**
 * Parses a WeChat Pay v2 message into its fields, every value a string.
 * @example decode('<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>') // { return_code: 'SUCCESS' }
 * @example decode('<root><refund_status><![CDATA[SUCCESS]]></refund_status></root>', { root: 'root' })
 * @throws {XmlError} on anything but a flat document of simple elements under the expected root.
 */
export function decode(input: string, options?: DecodeOptions): Fields {
  if (input.length > MAX_XML_LENGTH) throw new XmlError(`document is larger than ${MAX_XML_LENGTH} characters`)
  const root = options?.root ?? 'xml'
  if (root !== 'xml' && !NAME.test(root)) throw new XmlError('the root name must be a simple element name')
  const endRoot = `</${root}>`
  const fields = newFields()
  const names: string[] = []
  let pos = skipProlog(input)
  pos = expect(input, pos, `<${root}>`, `the root element must be <${root}> without attributes`)
  for (;;) {
    pos = skipSpace(input, pos)
    if (input.charCodeAt(pos) !== LT) {
      throw new XmlError(pos >= input.length ? `unclosed <${root}> root` : `text outside an element at offset ${pos}`)
    }
    const next = input.charCodeAt(pos + 1)
    if (next === SLASH) {
      if (input.startsWith(endRoot, pos)) break
      throw new XmlError(`unexpected end tag at offset ${pos}`)
    }
    if (next === BANG) throw new XmlError(declarationError(input, pos))
    // The name: scanned in place, so that an attribute or an odd character stops it.
    let end = pos + 1
    let hash = 0
    for (let code = input.charCodeAt(end); isNameChar(code, end === pos + 1); code = input.charCodeAt(++end)) {
      hash = (Math.imul(hash, 31) + code) | 0
    }
    const name = knownName(input, pos + 1, end, hash) ?? input.slice(pos + 1, end)
    const selfClosing = input.charCodeAt(end) === SLASH && input.charCodeAt(end + 1) === GT
    if (name === '' || (!selfClosing && input.charCodeAt(end) !== GT)) {
      const close = input.indexOf('>', pos)
      if (close < 0) throw new XmlError(`unclosed tag at offset ${pos}`)
      throw new XmlError(
        `invalid element <${truncate(input.slice(pos + 1, close))}>: attributes and odd names are not allowed`,
      )
    }
    if (names.push(name) > MAX_FIELDS) throw new XmlError(`more than ${MAX_FIELDS} elements`)
    if (selfClosing) {
      fields[name] = ''
      pos = end + 2
      continue
    }
    pos = readContent(input, end + 1, pos + 1, name, fields)
  }
  pos = skipSpace(input, pos + endRoot.length)
  if (pos !== input.length) throw new XmlError(`content after the closing ${endRoot}`)
  // Duplicates are found by count, once: a lookup per element would cost more than the parse.
  if (Object.keys(fields).length !== names.length) {
    throw new XmlError(`duplicate element <${names.find((name, i) => names.indexOf(name) !== i)}>`)
  }
  return fields
}

// The names WeChat Pay sends (reference §3.2, §4.2, §6.1), ready to use as property keys. A name
// sliced from the input must first be copied into the engine's string table, which costs more than
// finding it here by a hash computed while scanning.
const KNOWN_NAMES = new Map<number, string>()
for (const name of [
  'return_code',
  'return_msg',
  'appid',
  'mch_id',
  'device_info',
  'nonce_str',
  'sign',
  'sign_type',
  'result_code',
  'result_msg',
  'err_code',
  'err_code_des',
  'trade_type',
  'prepay_id',
  'code_url',
  'mweb_url',
  'openid',
  'is_subscribe',
  'trade_state',
  'bank_type',
  'total_fee',
  'settlement_total_fee',
  'fee_type',
  'cash_fee',
  'cash_fee_type',
  'coupon_fee',
  'coupon_count',
  'transaction_id',
  'out_trade_no',
  'attach',
  'time_end',
  'trade_state_desc',
  'body',
  'detail',
  'notify_url',
  'spbill_create_ip',
  'time_start',
  'time_expire',
  'goods_tag',
  'product_id',
  'limit_pay',
  'scene_info',
  'coupon_type_0',
  'coupon_id_0',
  'coupon_fee_0',
  'out_refund_no',
  'refund_id',
  'refund_fee',
  'settlement_refund_fee',
  'refund_status',
  'success_time',
  'refund_recv_accout',
  'refund_account',
  'refund_request_source',
  'req_info',
]) {
  KNOWN_NAMES.set(nameHash(name), name)
}

function nameHash(name: string): number {
  let hash = 0
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) | 0
  return hash
}

/** The ready-made key for the name between `start` and `end`, if it is a known one. */
function knownName(input: string, start: number, end: number, hash: number): string | undefined {
  const known = KNOWN_NAMES.get(hash)
  return known !== undefined && known.length === end - start && input.startsWith(known, start) ? known : undefined
}

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
const BANG = 0x21

function isNameChar(code: number, first: boolean): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    code === 0x5f || // _
    (!first && code >= 0x30 && code <= 0x39) // 0-9
  )
}

/** True when `</name>` starts at `at`, where the start tag's name is at `nameAt`: compared in place. */
function isEndTag(input: string, at: number, nameAt: number, length: number): boolean {
  if (input.charCodeAt(at) !== LT || input.charCodeAt(at + 1) !== SLASH || input.charCodeAt(at + 2 + length) !== GT) {
    return false
  }
  for (let i = 0; i < length; i++) {
    if (input.charCodeAt(at + 2 + i) !== input.charCodeAt(nameAt + i)) return false
  }
  return true
}

/**
 * Serialises fields as a flat `<xml>` document. Values with markup characters go in CDATA
 * (WeChat's advice for JSON such as `detail`); a `]]>` inside is split across two sections.
 * @throws {XmlError} for a name that is not a simple element name, or a character v2 rejects.
 */
export function encode(fields: Readonly<Record<string, string>>): string {
  let out = '<xml>'
  for (const [name, value] of Object.entries(fields)) {
    if (!NAME.test(name)) throw new XmlError(`cannot encode element name "${truncate(name)}"`)
    if (ASTRAL.test(value)) throw new XmlError(`${name}: 4-byte UTF-8 characters are not supported by WeChat Pay v2`)
    out += `<${name}>${/[<>&'"]/.test(value) ? cdata(value) : value}</${name}>`
  }
  return `${out}</xml>`
}

function cdata(value: string): string {
  return `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
}

/**
 * Reads text, entities and CDATA up to `</name>` into `fields[name]`; returns the offset after the
 * end tag. The common shapes — one CDATA section, or plain text — take one search each.
 */
function readContent(input: string, start: number, nameAt: number, name: string, fields: Fields): number {
  let value = ''
  let pos = start
  for (;;) {
    const lt = input.indexOf('<', pos)
    if (lt < 0) throw new XmlError(`unclosed element <${name}>`)
    if (lt > pos) {
      const text = input.slice(pos, lt)
      value += text.includes('&') ? decodeText(text, name) : text
    }
    if (input.startsWith('<![CDATA[', lt)) {
      const end = input.indexOf(']]>', lt + 9)
      if (end < 0) throw new XmlError(`unclosed CDATA section in <${name}>`)
      value += input.slice(lt + 9, end)
      pos = end + 3
      continue
    }
    if (isEndTag(input, lt, nameAt, name.length)) {
      fields[name] = value
      return lt + name.length + 3
    }
    if (input.startsWith('<!', lt)) throw new XmlError(declarationError(input, lt))
    if (input.startsWith('</', lt)) throw new XmlError(`mismatched end tag in <${name}>`)
    throw new XmlError(`nested element in <${name}>: v2 messages are flat`)
  }
}

function decodeText(text: string, name: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&([^;&]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`bare & in <${name}>`)
    const named = ENTITIES[ref]
    if (named !== undefined && Object.hasOwn(ENTITIES, ref)) return named
    const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref)
      ? Number.parseInt(ref.slice(2), 16)
      : /^#[0-9]{1,7}$/.test(ref)
        ? Number.parseInt(ref.slice(1), 10)
        : Number.NaN
    if (!(code >= 0x9 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError(`unknown entity &${truncate(ref)}; in <${name}>`)
    }
    return String.fromCodePoint(code)
  })
}

/** Skips a byte-order mark, white space and an optional `<?xml …?>` declaration. */
function skipProlog(input: string): number {
  let pos = input.charCodeAt(0) === 0xfeff ? 1 : 0
  pos = skipSpace(input, pos)
  if (input.startsWith('<?xml', pos)) {
    const end = input.indexOf('?>', pos)
    if (end < 0) throw new XmlError('unclosed XML declaration')
    pos = skipSpace(input, end + 2)
  }
  if (input.startsWith('<!', pos)) throw new XmlError(declarationError(input, pos))
  return pos
}

function declarationError(input: string, pos: number): string {
  const word = /^<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|--)/i.exec(input.slice(pos, pos + 10))?.[1]?.toUpperCase()
  if (word === 'DOCTYPE' || word === 'ENTITY') return 'DOCTYPE and ENTITY declarations are not allowed'
  if (word === '--') return 'comments are not allowed'
  return `markup declaration at offset ${pos} is not allowed`
}

function expect(input: string, pos: number, token: string, message: string): number {
  if (!input.startsWith(token, pos)) throw new XmlError(message)
  return pos + token.length
}

function skipSpace(input: string, pos: number): number {
  let p = pos
  for (;;) {
    const c = input.charCodeAt(p)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return p
    p++
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
