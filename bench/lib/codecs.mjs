/**
 * @module
 * The three codecs of part 1 behind one interface — parse(xml) → fields, encode(fields) → xml —
 * each configured as its users configure it, and the agreement check run before any timing.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser'
import xml2js from 'xml2js'

/** The three codecs behind one interface: parse(xml) → fields, encode(fields) → xml. */
export function buildLibraries(codec) {
  // Values stay strings and CDATA reads as text: the fair setting for a v2 message.
  const fxpParser = new XMLParser({ parseTagValue: false, ignoreDeclaration: true })
  const fxpBuilder = new XMLBuilder({ format: false })
  // The Node SDK tenpay's settings (src/util.ts parseXML/buildXML).
  const x2jParse = { trim: true, explicitArray: false, explicitRoot: false }
  const x2jBuilder = new xml2js.Builder({ xmldec: undefined, rootName: 'xml', allowSurrogateChars: true, cdata: true })
  return [
    { name: 'ours', parse: (xml) => codec.decode(xml), encode: (fields) => codec.encode(fields) },
    {
      name: 'fast-xml-parser',
      parse: (xml) => fxpParser.parse(xml).xml,
      encode: (fields) => fxpBuilder.build({ xml: fields }),
    },
    {
      name: 'xml2js',
      parse: (xml) => xml2js.parseStringPromise(xml, x2jParse),
      encode: (fields) => x2jBuilder.buildObject(fields),
    },
  ]
}

/** Refuses to time codecs that disagree: same fields from every parser, round-trippable output from every encoder. */
export async function checkAgreement(codec, libraries, cases) {
  for (const test of cases) {
    const expected = test.kind === 'parse' ? canonical(codec.decode(test.input)) : canonical(test.input)
    for (const library of libraries) {
      const output = await library[test.kind](test.input)
      const fields = test.kind === 'parse' ? output : codec.decode(output)
      if (canonical(fields) !== expected) {
        throw new Error(`${library.name} disagrees on "${test.name}":\n${canonical(fields)}\n≠\n${expected}`)
      }
    }
  }
}

function canonical(fields) {
  const entries = Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  for (const [name, value] of entries) {
    if (typeof value !== 'string') throw new Error(`field ${name} is not a string: ${JSON.stringify(value)}`)
  }
  return JSON.stringify(entries)
}
