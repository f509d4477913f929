/** @module v3 writes times as RFC 3339 in Beijing time (reference §6.7): `2026-01-01T08:00:05+08:00`. */
import { beijingTime, now } from '../time'

/**
 * A moment as v3 writes it.
 * @example rfc3339(Date.UTC(2026, 0, 1, 0, 0, 5)) // '2026-01-01T08:00:05+08:00'
 */
export function rfc3339(ms: number): string {
  const t = beijingTime(ms)
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}+08:00`
}

/** The sandbox's clock in Unix seconds (signature timestamps). */
export function nowSeconds(): number {
  return Math.floor(now() / 1000)
}
