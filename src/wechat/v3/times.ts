/**
 * @module
 * v3 writes times as RFC 3339 (`2026-01-01T08:00:05+08:00`); the /v1 replies keep v2's Beijing
 * formats (issue 16, decided): `time_end` yyyyMMddHHmmss and refund times `yyyy-MM-dd HH:mm:ss`.
 */

const BEIJING_MS = 8 * 3600_000
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** The moment an RFC 3339 time names, or undefined for anything else. */
function momentOf(value: string): number | undefined {
  if (!RFC3339.test(value)) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

function beijingParts(ms: number) {
  const d = new Date(ms + BEIJING_MS)
  const two = (n: number) => String(n).padStart(2, '0')
  return {
    date: `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`,
    time: `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`,
  }
}

/**
 * @example beijingCompact('2026-01-01T08:00:05+08:00') // '20260101080005'
 * @example beijingCompact('2026-01-01T00:00:05Z') // '20260101080005'
 */
export function beijingCompact(rfc3339: string): string | undefined {
  const ms = momentOf(rfc3339)
  if (ms === undefined) return undefined
  const { date, time } = beijingParts(ms)
  return `${date}${time}`.replace(/[-:]/g, '')
}

/** @example beijingText('2026-01-02T10:00:00+08:00') // '2026-01-02 10:00:00' */
export function beijingText(rfc3339: string): string | undefined {
  const ms = momentOf(rfc3339)
  if (ms === undefined) return undefined
  const { date, time } = beijingParts(ms)
  return `${date} ${time}`
}

/**
 * A v2 Beijing `yyyyMMddHHmmss` as v3 wants it: RFC 3339 with an explicit `+08:00` and no fraction
 * (whether v3 takes `Z` or fractions is unconfirmed, v3 reference §11.4).
 * @example rfc3339FromCompact('20260101083000') // '2026-01-01T08:30:00+08:00'
 */
export function rfc3339FromCompact(compact: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(compact)
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00` : undefined
}
