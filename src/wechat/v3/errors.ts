/**
 * @module
 * APIv3 error replies (`{"code","message"}` with a 4xx/5xx status, v3 reference §7) as the service's
 * one error table knows them: WeChat's material spells some codes both ways (`ORDER_NOT_EXIST` and
 * `ORDERNOTEXIST`, `USER_PAYING` and `USERPAYING`), so codes are compared with `_` removed and
 * answered in the spelling src/errors.ts maps (v2's), e.g. `SYSTEM_ERROR` → `SYSTEMERROR`, a 503.
 */
import { fail, type PayError, wechatError } from '../../errors'

// Squashed code (upper case, no `_`) → the err_code the rest of the service branches on.
const CANONICAL: Record<string, string> = {
  ORDERNOTEXIST: 'ORDERNOTEXIST',
  USERPAYING: 'USERPAYING',
  SYSTEMERROR: 'SYSTEMERROR',
  FREQUENCYLIMITED: 'FREQUENCY_LIMITED',
  // 429 RATELIMIT_EXCEEDED: the same "slow down, retry the same request" (§7.1).
  RATELIMITEXCEEDED: 'FREQUENCY_LIMITED',
  ORDERCLOSED: 'ORDERCLOSED',
  ORDERPAID: 'ORDERPAID',
  NOTENOUGH: 'NOTENOUGH',
  OUTTRADENOUSED: 'OUT_TRADE_NO_USED',
  INVALIDREQUEST: 'INVALID_REQUEST',
  BIZERRNEEDRETRY: 'BIZERR_NEED_RETRY',
  PARAMERROR: 'PARAM_ERROR',
  NOAUTH: 'NOAUTH',
  RULELIMIT: 'RULELIMIT',
  BANKERROR: 'BANKERROR',
  TRADEERROR: 'TRADE_ERROR',
  ACCOUNTERROR: 'ACCOUNT_ERROR',
  APPIDMCHIDNOTMATCH: 'APPID_MCHID_NOT_MATCH',
  MCHNOTEXISTS: 'MCHNOTEXISTS',
  USERACCOUNTABNORMAL: 'USER_ACCOUNT_ABNORMAL',
}

/** What RESOURCE_NOT_EXISTS means depends on what was asked: an order, or a refund (§6.10, §6.11). */
export type Subject = 'order' | 'refund'

/**
 * The err_code for a v3 `code`, in the spelling src/errors.ts maps.
 * @example errCodeOf('ORDER_NOT_EXIST', 'order') // 'ORDERNOTEXIST'
 * @example errCodeOf('RESOURCE_NOT_EXISTS', 'refund') // 'REFUNDNOTEXIST'
 */
export function errCodeOf(code: string, subject: Subject): string {
  const upper = code.toUpperCase()
  if (!/^[A-Z0-9_]{1,64}$/.test(upper)) return 'UNKNOWN'
  const squashed = upper.replaceAll('_', '')
  if (squashed === 'RESOURCENOTEXISTS' || squashed === 'RESOURCENOTEXIST')
    return subject === 'refund' ? 'REFUNDNOTEXIST' : 'ORDERNOTEXIST'
  return CANONICAL[squashed] ?? upper
}

/**
 * The failure a v3 error reply stands for. 5xx never gets here (the transport tries the backup domain
 * and then reports `upstream`); 401 is the service's own signature being refused, so `upstream`.
 */
export function replyError(status: number, text: string, subject: Subject, what: string): PayError {
  let code: unknown
  let message: unknown
  try {
    ;({ code, message } = JSON.parse(text) as { code?: unknown; message?: unknown })
  } catch {
    return fail('upstream', `${what} answered HTTP ${status} without a JSON error`)
  }
  if (typeof code !== 'string') return fail('upstream', `${what} answered HTTP ${status} without an error code`)
  const said = typeof message === 'string' ? message.slice(0, 200) : code
  if (status === 401 || code === 'SIGN_ERROR') {
    return fail(
      'upstream',
      `WeChat Pay refused the request signature of ${what} (${said}): check WXPAY_MCH_SERIAL and WXPAY_PRIVATE_KEY`,
    )
  }
  return wechatError(errCodeOf(code, subject), said)
}
