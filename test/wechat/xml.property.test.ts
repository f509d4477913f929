/**
 * @module
 * Properties of the flat `<xml>` codec: encode→decode is the identity, any input either decodes or
 * is refused with XmlError, and hostile shapes cost work linear in their size (counted, not timed).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, encode, type Fields, MAX_FIELDS, MAX_XML_LENGTH, XmlError } from '../../src/wechat/xml'
import { inherited } from '../support/objects'

const RUNS = { numRuns: 300 }
const SURROGATE = /[\uD800-\uDFFF]/

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/)
const bmpChar = fc
  .integer({ min: 0, max: 0xffff })
  .filter((code) => code < 0xd800 || code > 0xdfff)
  .map((code) => String.fromCharCode(code))
// Fragments that stress CDATA wrapping, entity handling and white space, mixed in deliberately.
const CDATA_BITS = [']]>', ']]', ']', '<![CDATA[', '>', '<', '</a>']
const ENTITY_BITS = ['&', '&amp;', '&#x41;', '"', "'"]
const TEXT_BITS = ['支付测试', ' ', '\t', '\n', '\r', '']
const tricky = fc.constantFrom(...CDATA_BITS, ...ENTITY_BITS, ...TEXT_BITS)
const bmpValue = fc.oneof(
  fc
    .array(fc.oneof(tricky, bmpChar, fc.string({ unit: 'grapheme-ascii', maxLength: 8 })), { maxLength: 12 })
    .map((parts) => parts.join('')),
  fc.string({ unit: bmpChar, maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }).filter((text) => !SURROGATE.test(text)),
)
const bmpFields = fc.dictionary(name, bmpValue, { maxKeys: 12 })
const astral = fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code))

/** Decodes, or returns the refusal; any error other than XmlError fails the property. */
function decodeOrRefuse(input: string): Fields | XmlError {
  try {
    const fields = decode(input)
    expect(inherited(fields)).toEqual([])
    for (const value of Object.values(fields)) expect(typeof value).toBe('string')
    return fields
  } catch (error) {
    if (error instanceof XmlError) return error
    throw error
  }
}

describe('encode → decode', () => {
  it('is the identity for any valid names and BMP values, order included', () => {
    fc.assert(
      fc.property(bmpFields, (fields) => {
        expect(Object.entries(decode(encode(fields)))).toEqual(Object.entries(fields))
      }),
      RUNS,
    )
  })

  it('refuses any value carrying an astral (4-byte UTF-8) character', () => {
    fc.assert(
      fc.property(name, bmpValue, astral, bmpValue, (field, before, character, after) => {
        const value = before + character + after
        expect(() => encode({ [field]: value })).toThrow(XmlError)
        expect(() => encode({ [field]: value })).toThrow(/4-byte UTF-8/)
      }),
      RUNS,
    )
  })
})

// Fragments of markup, so that random documents reach past the first check.
const TAG_BITS = ['<', '>', '/', '<!', '</', '<xml>', '</xml>', '<a>', '</a>', '<![CDATA[', ']]>']
const CHAR_BITS = ['&', ';', '#', 'x', 'a', '&amp;', '&#', ' ', '=', '"']
const markup = fc.constantFrom(...TAG_BITS, ...CHAR_BITS)

describe('decode of arbitrary input', () => {
  it.each([{ unit: 'grapheme' as const }, { unit: 'binary' as const }, { unit: 'binary-ascii' as const }])(
    'returns fields or throws XmlError for any $unit string',
    ({ unit }) => {
      fc.assert(
        fc.property(fc.string({ unit }), (input) => {
          decodeOrRefuse(input)
          decodeOrRefuse(`<xml>${input}</xml>`)
          decodeOrRefuse(`<xml><a>${input}</a></xml>`)
        }),
        RUNS,
      )
    },
  )

  it('returns fields or throws XmlError for any sequence of markup fragments', () => {
    fc.assert(
      fc.property(fc.array(markup, { maxLength: 30 }), (parts) => {
        decodeOrRefuse(parts.join(''))
        decodeOrRefuse(`<xml>${parts.join('')}</xml>`)
      }),
      RUNS,
    )
  })

  it('refuses every truncation of a valid document with XmlError', () => {
    fc.assert(
      fc.property(bmpFields, (fields) => {
        const xml = encode(fields)
        for (let end = 0; end < xml.length; end++) expect(decodeOrRefuse(xml.slice(0, end))).toBeInstanceOf(XmlError)
      }),
      { numRuns: 60 },
    )
  })

  it('returns fields or throws XmlError after inserting markup anywhere in a valid document', () => {
    fc.assert(
      fc.property(
        bmpFields,
        fc.nat(),
        fc.constantFrom('<', '&', '<!', '</', ']]>', '<![CDATA[', '>'),
        (fields, at, insert) => {
          const xml = encode(fields)
          const offset = at % (xml.length + 1)
          decodeOrRefuse(xml.slice(0, offset) + insert + xml.slice(offset))
        },
      ),
      RUNS,
    )
  })

  it('refuses a duplicated element', () => {
    fc.assert(
      fc.property(fc.dictionary(name, bmpValue, { minKeys: 1, maxKeys: 8 }), fc.nat(), (fields, pick) => {
        const names = Object.keys(fields)
        const field = names[pick % names.length] as string
        const element = encode({ [field]: fields[field] as string }).slice('<xml>'.length, -'</xml>'.length)
        const xml = `${encode(fields).slice(0, -'</xml>'.length)}${element}</xml>`
        expect(() => decode(xml)).toThrow(`duplicate element <${field}>`)
      }),
      RUNS,
    )
  })
})

/**
 * A stand-in for the input string that counts the characters the codec touches through it:
 * a deterministic measure of work, where wall time would be flaky. Each method charges what it
 * can scan: `indexOf` up to the match (or the end), `startsWith` its token, `slice` its copy.
 * Regexes and concatenation run on those slices, so their (linear) cost is charged there. Any
 * other access (a regex or `String()` over the whole input) throws or misreads, so an unmeasured
 * scan cannot hide: `measure` checks the outcome equals that of decoding the plain string.
 */
class CountingInput {
  work = 0
  constructor(private readonly text: string) {}
  get length(): number {
    return this.text.length
  }
  charCodeAt(index: number): number {
    this.work += 1
    return this.text.charCodeAt(index)
  }
  startsWith(token: string, from = 0): boolean {
    this.work += Math.min(token.length, Math.max(0, this.text.length - from))
    return this.text.startsWith(token, from)
  }
  indexOf(needle: string, from = 0): number {
    const found = this.text.indexOf(needle, from)
    this.work += (found < 0 ? this.text.length : found + needle.length) - from
    return found
  }
  slice(start?: number, end?: number): string {
    const part = this.text.slice(start, end)
    this.work += part.length
    return part
  }
  toString(): never {
    throw new Error('unmeasured whole-input access')
  }
}

/** The outcome of decoding plus the work it took; the outcome must match decoding the plain string. */
function measure(text: string): { outcome: string; work: number } {
  const input = new CountingInput(text)
  const describeOutcome = (run: () => Fields) => {
    try {
      return JSON.stringify(Object.entries(run()))
    } catch (error) {
      if (error instanceof XmlError) return `XmlError: ${error.message}`
      throw error
    }
  }
  const outcome = describeOutcome(() => decode(input as unknown as string))
  expect(outcome).toBe(describeOutcome(() => decode(text)))
  return { outcome, work: input.work }
}

/** Repeats `unit` between `head` and `tail` to exactly `length` characters (padding with spaces inside). */
function shape(head: string, unit: string, tail: string, length: number): string {
  const room = length - head.length - tail.length
  const body = unit.repeat(Math.floor(room / unit.length))
  return head + body + ' '.repeat(room - body.length) + tail
}

// Hostile shapes: what would make a naive scanner rescan the rest of the input for every token.
const SHAPES: { name: string; head: string; unit: string; tail: string }[] = [
  { name: 'open tags', head: '<xml>', unit: '<a>', tail: '' },
  { name: 'unclosed "<"', head: '<xml>', unit: '<', tail: '</xml>' },
  { name: 'markup declarations', head: '<xml>', unit: '<!', tail: '</xml>' },
  { name: 'bare ampersands', head: '<xml><a>', unit: '&', tail: '</a></xml>' },
  { name: 'ampersands with no semicolon', head: '<xml><a>', unit: '&a', tail: '</a></xml>' },
  { name: 'a long numeric reference', head: '<xml><a>&#', unit: '1', tail: ';</a></xml>' },
  { name: 'entities', head: '<xml><a>', unit: '&amp;&#x4e2d;', tail: '</a></xml>' },
  { name: 'CDATA openers', head: '<xml><a>', unit: '<![CDATA[', tail: '</a></xml>' },
  { name: 'CDATA sections', head: '<xml><a>', unit: '<![CDATA[<]]>', tail: '</a></xml>' },
  { name: 'CDATA terminators in text', head: '<xml><a>', unit: ']]>', tail: '</a></xml>' },
  { name: 'end-tag openers', head: '<xml><a>', unit: '</', tail: '</a></xml>' },
  { name: 'near-miss end tags', head: '<xml><abc>', unit: '</ab', tail: '</abc></xml>' },
  { name: 'a long element name', head: '<xml><', unit: 'a', tail: '>x</a></xml>' },
  { name: 'white space', head: '<xml>', unit: ' \n\t', tail: '</xml>' },
  { name: 'an unclosed declaration', head: '<?xml', unit: ' ', tail: '' },
  { name: 'empty elements', head: '<xml>', unit: '<a/>', tail: '</xml>' },
  { name: 'a value near the limit', head: '<xml><a>', unit: 'x', tail: '</a></xml>' },
]

describe('work on adversarial input', () => {
  const MEGABYTE = 1024 * 1024

  it.each(SHAPES)('refuses 1 MB of $name by its length, before reading any of it', ({ head, unit, tail }) => {
    const text = shape(head, unit, tail, MEGABYTE)
    const input = new CountingInput(text)
    expect(() => decode(input as unknown as string)).toThrow(/larger than 65536 characters/)
    expect(input.work).toBe(0)
    expect(() => decode(text)).toThrow(XmlError)
  })

  // Linear: at most three characters touched per input character at every size up to the limit.
  // A scanner that rescans the rest per token would touch ~n²/2 (over 2·10⁹ at the limit).
  it.each(SHAPES)('parses or refuses $name with work linear in size, up to the limit', ({ head, unit, tail }) => {
    for (const length of [MAX_XML_LENGTH / 16, MAX_XML_LENGTH / 4, MAX_XML_LENGTH]) {
      const { work } = measure(shape(head, unit, tail, length))
      expect(work).toBeLessThanOrEqual(3 * length)
    }
  })

  it(`stops at element ${MAX_FIELDS + 1} however many follow`, () => {
    const elements = (count: number) => `<xml>${Array.from({ length: count }, (_, i) => `<f${i}/>`).join('')}</xml>`
    expect(Object.keys(decode(elements(MAX_FIELDS)))).toHaveLength(MAX_FIELDS)
    const few = measure(elements(MAX_FIELDS + 1))
    const many = measure(elements(8000))
    expect(few.outcome).toBe(`XmlError: more than ${MAX_FIELDS} elements`)
    expect(many.outcome).toBe(few.outcome)
    expect(many.work).toBe(few.work)
  })
})
