/**
 * @module
 * The sandbox's clock. WeChat writes every time as Beijing time (UTC+8) `yyyyMMddHHmmss`
 * (参数规定 §时间), whatever the zone of the caller.
 */

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000

/** Milliseconds since the epoch; the one place the sandbox reads the clock. */
export function now(): number {
  return Date.now()
}

/**
 * A moment as WeChat writes it: Beijing time, `yyyyMMddHHmmss`.
 * @example beijingTime(Date.UTC(2014, 10, 11, 9, 0, 43)) // '20141111170043'
 */
export function beijingTime(ms: number): string {
  const d = new Date(ms + BEIJING_OFFSET_MS)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The moment a Beijing `yyyyMMddHHmmss` names, or `undefined` if it names none. */
export function beijingMs(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text)
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - BEIJING_OFFSET_MS
  // Date.UTC rolls 20240230 over to March; a real date reads back unchanged.
  return beijingTime(ms) === text ? ms : undefined
}

/**
 * A moment as refunds and bills write it: Beijing time, `yyyy-MM-dd HH:mm:ss` (refunds reference §2.2, §4.3).
 * @example beijingDateTime(Date.UTC(2017, 11, 15, 1, 46, 1)) // '2017-12-15 09:46:01'
 */
export function beijingDateTime(ms: number): string {
  const t = beijingTime(ms)
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}`
}
