/**
 * @module
 * Messages for the codec benchmark: the published WeChat Pay v2 samples the codec tests use
 * (test/wechat/samples.ts, verbatim from the reference §10) — the payment notification (§10.6),
 * the orderquery reply (§10.4) and the unifiedorder request's fields (§10.1) — and the two replies
 * again with field names the codec has never seen.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SAMPLES } from '../../test/wechat/samples.ts'
import { ROOT } from './tools.mjs'

function sample(prefix) {
  const found = SAMPLES.find((s) => s.name.startsWith(prefix))
  if (!found) throw new Error(`no sample named ${prefix}…`)
  return found
}

export const NOTIFICATION_XML = sample('10.6 payment notification').xml
export const ORDERQUERY_XML = sample('10.4 orderquery reply').xml
export const UNIFIEDORDER_FIELDS = Object.freeze({ ...sample('10.1 unifiedorder request').fields })

/**
 * The same message with every element name (but the root) changed to one the codec's table of
 * WeChat's names (KNOWN_NAMES in src/wechat/xml.ts) does not hold: its first letter upper-cased,
 * so each name keeps its length, and values, order and CDATA stay as they were. Throws if a name
 * so made is in the table after all.
 */
export function withUnseenNames(xml) {
  const known = knownNames()
  return xml.replace(/<(\/?)([A-Za-z_][\w.-]*)>/g, (tag, slash, name) => {
    if (name === 'xml') return tag
    const unseen = name[0].toUpperCase() + name.slice(1)
    if (unseen === name || known.has(unseen)) throw new Error(`cannot make an unseen name from <${name}>`)
    return `<${slash}${unseen}>`
  })
}

/** The names in the codec's KNOWN_NAMES table, read from its source. */
function knownNames() {
  const source = readFileSync(join(ROOT, 'src', 'wechat', 'xml.ts'), 'utf8')
  const block = /const KNOWN_NAMES[\s\S]*?for \(const name of \[([\s\S]*?)\]\)/.exec(source)?.[1]
  if (!block) throw new Error('src/wechat/xml.ts: no KNOWN_NAMES table found')
  return new Set([...block.matchAll(/'([^']+)'/g)].map((match) => match[1]))
}

export const NOTIFICATION_XML_UNSEEN = withUnseenNames(NOTIFICATION_XML)
export const ORDERQUERY_XML_UNSEEN = withUnseenNames(ORDERQUERY_XML)
