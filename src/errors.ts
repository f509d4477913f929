/**
 * @module
 * Every failure the service reports, as data, and the one mapping from a failure to its
 * HTTP status and `{"error": {"code", "message"}}` body.
 */

/** Failures of the service itself; WeChat's business errors travel as `{ kind: 'wechat' }`. */
export type FailureKind =
  | 'params'
  | 'unauthorized'
  | 'forbidden'
  | 'upstream'
  | 'timeout'
  | 'notFound'
  | 'noRecord'
  | 'notPaid'
  | 'refundTooLarge'
  | 'methodNotAllowed'
  | 'tooLarge'
  | 'config'
  | 'internal'

export type Failure = { kind: FailureKind; message: string } | { kind: 'wechat'; errCode: string; message: string }

/**
 * A failure with a public message: it must never carry a secret or a stack.
 * @example throw new PayError({ kind: 'upstream', message: 'return_code FAIL: 签名错误' })
 */
export class PayError extends Error {
  override readonly name = 'PayError'
  constructor(readonly failure: Failure) {
    super(failure.message)
  }
}

/** Shorthand for the service's own kinds. */
export function fail(kind: FailureKind, message: string): PayError {
  return new PayError({ kind, message })
}

/** One of WeChat's business errors (err_code), passed to the caller verbatim. */
export function wechatError(errCode: string, message: string): PayError {
  return new PayError({ kind: 'wechat', errCode, message })
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 500 | 502 | 503 | 504

export type ErrorBody = { error: { code: string; message: string } }

// WeChat err_codes that say something about the order, not about the service (§3.3, §4.4, §5).
const WECHAT_STATUS: Record<string, ErrorStatus> = {
  ORDERNOTEXIST: 404,
  ORDERPAID: 409,
  ORDERCLOSED: 409,
  OUT_TRADE_NO_USED: 409,
  INVALID_REQUEST: 409,
  OUT_REFUND_NO_USED: 409,
  REFUND_FEE_MISMATCH: 409,
  REFUNDNOTEXIST: 404,
  // "Try again later" (reference §3.3; refunds §1.4): the same request may succeed.
  SYSTEMERROR: 503,
  BIZERR_NEED_RETRY: 503,
  FREQUENCY_LIMITED: 503,
  ORDER_NOT_READY: 503,
  INVALID_REQ_TOO_MUCH: 503,
}

/** The one mapping from a failure to what the caller sees. */
export function describe(failure: Failure): { status: ErrorStatus; body: ErrorBody } {
  const body = (code: string): ErrorBody => ({ error: { code, message: failure.message } })
  switch (failure.kind) {
    case 'params':
      return { status: 400, body: body('wxPayError.params') }
    case 'unauthorized':
      return { status: 401, body: body('wxPayError.unauthorized') }
    case 'forbidden':
      return { status: 403, body: body('wxPayError.forbidden') }
    case 'notFound':
      return { status: 404, body: body('wxPayError.notFound') }
    case 'noRecord':
      return { status: 404, body: body('ORDERNOTEXIST') }
    case 'notPaid':
      return { status: 409, body: body('wxPayError.notPaid') }
    case 'refundTooLarge':
      return { status: 409, body: body('wxPayError.refundTooLarge') }
    case 'methodNotAllowed':
      return { status: 405, body: body('wxPayError.methodNotAllowed') }
    case 'tooLarge':
      return { status: 413, body: body('wxPayError.tooLarge') }
    case 'config':
      return { status: 500, body: body('wxPayError.config') }
    case 'internal':
      return { status: 500, body: body('wxPayError.internal') }
    case 'upstream':
      return { status: 502, body: body('wxPayError.upstream') }
    case 'timeout':
      return { status: 504, body: body('wxPayError.timeout') }
    case 'wechat':
      return {
        status: Object.hasOwn(WECHAT_STATUS, failure.errCode) ? (WECHAT_STATUS[failure.errCode] as ErrorStatus) : 502,
        body: body(failure.errCode),
      }
  }
}
