/**
 * @module
 * The ledger's log lines: one JSON object per line, found by its `event`.
 */
import { PayError } from '../errors'

export function log(level: 'info' | 'warn' | 'error', entry: Record<string, unknown>): void {
  console[level](JSON.stringify(entry))
}

/** An error's name, the only part of a thrown error that is logged. */
export function name(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown'
}

/** What a self-check found when its query failed: WeChat's err_code, the failure's kind, or the error's name. */
export function checkError(err: unknown): string {
  return err instanceof PayError
    ? `${err.failure.kind === 'wechat' ? err.failure.errCode : err.failure.kind}`
    : name(err)
}
