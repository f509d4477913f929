/**
 * @module
 * The service's log lines: one JSON object per line, found by its `event`. Never a secret, never
 * a thrown error's message (it may quote a request): an error is logged by its name.
 */

export type Level = 'info' | 'warn' | 'error'

/** @example log('warn', { event: 'refund_not_accepted', out_refund_no }) */
export function log(level: Level, entry: Record<string, unknown>): void {
  console[level](JSON.stringify(entry))
}

/** An error's name, the only part of a thrown error that is logged. */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown'
}
