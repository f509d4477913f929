/**
 * @module
 * How a self-check's failed query is logged.
 */
import { PayError } from '../errors'
import { errorName } from '../log'

/** What a self-check found when its query failed: WeChat's err_code, the failure's kind, or the error's name. */
export function checkError(err: unknown): string {
  return err instanceof PayError
    ? `${err.failure.kind === 'wechat' ? err.failure.errCode : err.failure.kind}`
    : errorName(err)
}
