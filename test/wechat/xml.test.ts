/**
 * @module
 * The flat `<xml>` codec against the published messages (reference §10), the format rules (§11)
 * and hostile input: DTDs, XXE, nesting, prototype keys, oversized documents.
 */
import { describe, expect, it } from 'vitest'
import { decode, encode, MAX_FIELDS, MAX_XML_LENGTH, XmlError } from '../../src/wechat/xml'
import { inherited } from '../support/objects'
import { SAMPLES } from './samples'

/** The decoded fields as ordinary [name, value] pairs in document order. */
const entries = (xml: string) => Object.entries(decode(xml))

describe('decode', () => {
  it.each(SAMPLES)('decodes sample $name into its exact string fields', ({ xml, fields }) => {
    expect(entries(xml)).toEqual(Object.entries(fields))
  })

  it.each([
    {
      case: 'ignores white space between elements',
      xml: '<xml>\n\t <a>1</a>\r\n <b>2</b>\n</xml>',
      fields: { a: '1', b: '2' },
    },
    {
      case: 'keeps white space inside values',
      xml: '<xml><a>  x \n</a><b> </b></xml>',
      fields: { a: '  x \n', b: ' ' },
    },
    {
      case: 'accepts an XML declaration and a byte-order mark',
      xml: '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<xml><a>1</a></xml>\n',
      fields: { a: '1' },
    },
    { case: 'decodes the five entities', xml: '<xml><a>&lt;&gt;&amp;&quot;&apos;</a></xml>', fields: { a: `<>&"'` } },
    {
      case: 'decodes decimal and hex references',
      xml: '<xml><a>&#65;&#x42;&#x4e2D;&#9;&#xFFFD;</a></xml>',
      fields: { a: 'AB中\t\uFFFD' },
    },
    {
      case: 'concatenates text, entities and CDATA',
      xml: '<xml><a>x<![CDATA[<y>]]>&amp;z<![CDATA[]]>w</a></xml>',
      fields: { a: 'x<y>&zw' },
    },
    {
      case: 'leaves entities in CDATA alone',
      xml: '<xml><a><![CDATA[&amp;&foo;]]></a></xml>',
      fields: { a: '&amp;&foo;' },
    },
    {
      case: 'reads a CDATA split around ]]>',
      xml: '<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>',
      fields: { a: 'x]]>y' },
    },
    { case: 'reads > and ]]> in text', xml: '<xml><a>a>b]]></a></xml>', fields: { a: 'a>b]]>' } },
    {
      case: 'reads empty elements as empty strings',
      xml: '<xml><a></a><b/><c><![CDATA[]]></c></xml>',
      fields: { a: '', b: '', c: '' },
    },
    { case: 'reads an empty root', xml: '<xml></xml>', fields: {} },
    { case: 'keeps numbers as strings', xml: '<xml><total_fee>0001</total_fee></xml>', fields: { total_fee: '0001' } },
  ])('$case', ({ xml, fields }) => {
    expect(entries(xml)).toEqual(Object.entries(fields))
  })
})

describe('encode', () => {
  it.each<{ case: string; fields: Record<string, string>; xml: string }>([
    {
      case: 'leaves plain values unwrapped',
      fields: { a: '1', b: '支付 测试' },
      xml: '<xml><a>1</a><b>支付 测试</b></xml>',
    },
    { case: 'writes an empty value as an empty element', fields: { a: '' }, xml: '<xml><a></a></xml>' },
    { case: 'wraps < in CDATA', fields: { a: 'x<y' }, xml: '<xml><a><![CDATA[x<y]]></a></xml>' },
    { case: 'wraps > in CDATA', fields: { a: 'x>y' }, xml: '<xml><a><![CDATA[x>y]]></a></xml>' },
    { case: 'wraps & in CDATA', fields: { a: 'x&amp;' }, xml: '<xml><a><![CDATA[x&amp;]]></a></xml>' },
    { case: 'wraps quotes in CDATA', fields: { a: `"'` }, xml: `<xml><a><![CDATA["']]></a></xml>` },
    {
      case: 'splits ]]> across two CDATA sections',
      fields: { a: 'x]]>y]]>' },
      xml: '<xml><a><![CDATA[x]]]]><![CDATA[>y]]]]><![CDATA[>]]></a></xml>',
    },
    { case: 'writes no fields as an empty root', fields: {}, xml: '<xml></xml>' },
  ])('$case', ({ fields, xml }) => {
    expect(encode(fields)).toBe(xml)
    expect(entries(xml)).toEqual(Object.entries(fields))
  })

  it.each(SAMPLES)('round-trips sample $name', ({ fields }) => {
    expect(entries(encode(fields))).toEqual(Object.entries(fields))
  })

  it.each<{ case: string; fields: Record<string, string>; message: RegExp }>([
    { case: 'a name starting with a digit', fields: { '1a': 'x' }, message: /element name "1a"/ },
    { case: 'a name with a hyphen', fields: { 'a-b': 'x' }, message: /element name "a-b"/ },
    { case: 'an empty name', fields: { '': 'x' }, message: /element name ""/ },
    { case: 'a name with markup', fields: { 'a><b': 'x' }, message: /element name/ },
    { case: 'an emoji (4-byte UTF-8)', fields: { body: 'gift 🎁' }, message: /body: 4-byte UTF-8/ },
    { case: 'a lone surrogate', fields: { body: 'x\uD800' }, message: /body: 4-byte UTF-8/ },
  ])('refuses $case', ({ fields, message }) => {
    expect(() => encode(fields)).toThrow(XmlError)
    expect(() => encode(fields)).toThrow(message)
  })
})

const XXE = '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
const fieldsXml = (count: number) =>
  `<xml>${Array.from({ length: count }, (_, i) => `<f${i}>${i}</f${i}>`).join('')}</xml>`
const sized = (length: number) => {
  const head = '<xml><a>'
  const tail = '</a></xml>'
  return head + 'x'.repeat(length - head.length - tail.length) + tail
}

describe('decode refuses', () => {
  it.each([
    { case: 'a DOCTYPE', xml: '<!DOCTYPE xml><xml></xml>', message: /DOCTYPE and ENTITY/ },
    {
      case: 'the XXE payload before the root',
      xml: `<?xml version="1.0"?>${XXE}<xml><a>&xxe;</a></xml>`,
      message: /DOCTYPE/,
    },
    { case: 'the XXE payload inside the root', xml: `<xml>${XXE}<a>&xxe;</a></xml>`, message: /DOCTYPE/ },
    { case: 'a DOCTYPE inside an element', xml: `<xml><a>${XXE}</a></xml>`, message: /DOCTYPE/ },
    { case: 'a lower-case doctype', xml: '<!doctype xml><xml></xml>', message: /DOCTYPE/ },
    { case: 'an ENTITY declaration', xml: '<xml><!ENTITY x "y"><a>&x;</a></xml>', message: /DOCTYPE and ENTITY/ },
    { case: 'a comment before the root', xml: '<!-- c --><xml></xml>', message: /comments/ },
    { case: 'a comment between elements', xml: '<xml><!-- c --><a>1</a></xml>', message: /comments/ },
    { case: 'a comment inside a value', xml: '<xml><a>1<!-- c --></a></xml>', message: /comments/ },
    { case: 'CDATA outside an element', xml: '<xml><![CDATA[x]]></xml>', message: /markup declaration/ },
    { case: 'attributes on the root', xml: '<xml a="1"></xml>', message: /root element must be <xml>/ },
    { case: 'attributes on an element', xml: '<xml><a b="1">x</a></xml>', message: /attributes/ },
    { case: 'nested elements', xml: '<xml><a><b>1</b></a></xml>', message: /nested element in <a>/ },
    { case: 'a duplicate element', xml: '<xml><a>1</a><a>2</a></xml>', message: /duplicate element <a>/ },
    { case: 'a duplicate empty element', xml: '<xml><a/><a></a></xml>', message: /duplicate element <a>/ },
    { case: 'an unclosed tag', xml: '<xml><a', message: /unclosed tag/ },
    { case: 'an unclosed element', xml: '<xml><a>1', message: /unclosed element <a>/ },
    {
      case: 'an unclosed CDATA section',
      xml: '<xml><a><![CDATA[1</a></xml>',
      message: /unclosed CDATA section in <a>/,
    },
    { case: 'an unclosed root', xml: '<xml><a>1</a>', message: /unclosed <xml> root/ },
    { case: 'an unclosed XML declaration', xml: '<?xml version="1.0"<xml></xml>', message: /unclosed XML declaration/ },
    { case: 'a mismatched end tag', xml: '<xml><a>1</b></xml>', message: /mismatched end tag in <a>/ },
    { case: 'a stray end tag', xml: '<xml><a>1</a></b></xml>', message: /unexpected end tag/ },
    { case: 'text outside elements', xml: '<xml>hello<a>1</a></xml>', message: /text outside an element/ },
    { case: 'text after the last element', xml: '<xml><a>1</a>x</xml>', message: /text outside an element/ },
    { case: 'an element after </xml>', xml: '<xml></xml><a>1</a>', message: /content after the closing <\/xml>/ },
    { case: 'text after </xml>', xml: '<xml></xml>x', message: /content after the closing <\/xml>/ },
    { case: 'a second root', xml: '<xml></xml><xml></xml>', message: /content after the closing <\/xml>/ },
    { case: 'a root other than xml', xml: '<root><a>1</a></root>', message: /root element must be <xml>/ },
    { case: 'an upper-case root', xml: '<XML></XML>', message: /root element must be <xml>/ },
    { case: 'an empty document', xml: '', message: /root element must be <xml>/ },
    { case: 'an unknown entity', xml: '<xml><a>&foo;</a></xml>', message: /unknown entity &foo; in <a>/ },
    { case: 'an Object.prototype name as entity', xml: '<xml><a>&constructor;</a></xml>', message: /unknown entity/ },
    { case: 'a __proto__ entity', xml: '<xml><a>&__proto__;</a></xml>', message: /unknown entity/ },
    { case: 'a bare &', xml: '<xml><a>fish & chips</a></xml>', message: /bare & in <a>/ },
    { case: 'an entity without ;', xml: '<xml><a>&amp</a></xml>', message: /bare & in <a>/ },
    { case: 'a surrogate reference', xml: '<xml><a>&#xD800;</a></xml>', message: /unknown entity/ },
    { case: 'a decimal surrogate reference', xml: '<xml><a>&#57343;</a></xml>', message: /unknown entity/ },
    { case: 'a reference above U+10FFFF', xml: '<xml><a>&#x110000;</a></xml>', message: /unknown entity/ },
    { case: 'a decimal reference above U+10FFFF', xml: '<xml><a>&#1114112;</a></xml>', message: /unknown entity/ },
    { case: 'a NUL reference', xml: '<xml><a>&#0;</a></xml>', message: /unknown entity/ },
    { case: 'an empty hex reference', xml: '<xml><a>&#x;</a></xml>', message: /unknown entity/ },
    { case: 'a negative reference', xml: '<xml><a>&#-65;</a></xml>', message: /unknown entity/ },
    { case: 'a name starting with a digit', xml: '<xml><1a>x</1a></xml>', message: /invalid element <1a>/ },
    { case: 'a name with a hyphen', xml: '<xml><a-b>x</a-b></xml>', message: /invalid element <a-b>/ },
    { case: 'a name with a namespace prefix', xml: '<xml><w:a>x</w:a></xml>', message: /invalid element <w:a>/ },
    { case: 'an empty tag', xml: '<xml><>x</></xml>', message: /invalid element <>/ },
    { case: 'a processing instruction inside the root', xml: '<xml><?pi x?></xml>', message: /invalid element/ },
    { case: `a document over ${MAX_XML_LENGTH} characters`, xml: sized(MAX_XML_LENGTH + 1), message: /larger than/ },
    { case: `more than ${MAX_FIELDS} elements`, xml: fieldsXml(MAX_FIELDS + 1), message: /more than 256 elements/ },
  ])('$case', ({ xml, message }) => {
    expect(() => decode(xml)).toThrow(XmlError)
    expect(() => decode(xml)).toThrow(message)
  })

  it(`accepts exactly ${MAX_XML_LENGTH} characters and exactly ${MAX_FIELDS} elements`, () => {
    expect(decode(sized(MAX_XML_LENGTH)).a).toHaveLength(MAX_XML_LENGTH - '<xml><a></a></xml>'.length)
    expect(Object.keys(decode(fieldsXml(MAX_FIELDS)))).toHaveLength(MAX_FIELDS)
  })

  it('names the refusal XmlError, distinct from other errors', () => {
    const error = (() => {
      try {
        decode('<xml><a>')
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(XmlError)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe('XmlError')
  })
})

describe('prototype keys', () => {
  const xml =
    '<xml><__proto__><![CDATA[{"polluted":"yes"}]]></__proto__><constructor>c</constructor>' +
    '<toString>t</toString><hasOwnProperty>h</hasOwnProperty><polluted>p</polluted></xml>'

  it('decodes __proto__ and constructor as ordinary own keys of an object that inherits nothing', () => {
    const fields = decode(xml)
    expect(inherited(fields)).toEqual([])
    expect(Object.entries(fields)).toEqual([
      ['__proto__', '{"polluted":"yes"}'],
      ['constructor', 'c'],
      ['toString', 't'],
      ['hasOwnProperty', 'h'],
      ['polluted', 'p'],
    ])
    expect({} as Record<string, unknown>).not.toHaveProperty('polluted')
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('treats inherited names as absent when checking duplicates', () => {
    expect(decode('<xml><toString>1</toString></xml>').toString).toBe('1')
    expect(() => decode('<xml><__proto__>1</__proto__><__proto__>2</__proto__></xml>')).toThrow(/duplicate/)
    expect(() => decode('<xml><constructor>1</constructor><constructor/></xml>')).toThrow(/duplicate/)
  })

  it('round-trips __proto__ through encode', () => {
    expect(Object.entries(decode(encode(decode(xml))))).toEqual(Object.entries(decode(xml)))
  })
})

describe('decode with another root (refund notification req_info)', () => {
  it('reads a <root> document with CDATA values and line breaks', () => {
    const xml =
      '<root>\n<refund_fee><![CDATA[30]]></refund_fee>\n<refund_status><![CDATA[SUCCESS]]></refund_status>\n</root>'
    expect(Object.entries(decode(xml, { root: 'root' }))).toEqual([
      ['refund_fee', '30'],
      ['refund_status', 'SUCCESS'],
    ])
  })

  it.each([
    ['an <xml> document when <root> is expected', '<xml><a>1</a></xml>', 'root', 'must be <root>'],
    ['a <root> document when <xml> is expected', '<root><a>1</a></root>', undefined, 'must be <xml>'],
    ['a </xml> closing a <root>', '<root><a>1</a></xml>', 'root', 'unexpected end tag'],
    ['content after </root>', '<root></root><a/>', 'root', 'after the closing </root>'],
    ['a DOCTYPE before <root>', '<!DOCTYPE root [<!ENTITY x "y">]><root></root>', 'root', 'DOCTYPE'],
    ['a root name that is not a name', '<a b><c>1</c></a b>', 'a b', 'root name'],
  ])('refuses %s', (_, xml, root, message) => {
    expect(() => decode(xml, root === undefined ? undefined : { root })).toThrow(message)
  })
})
