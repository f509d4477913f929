/**
 * @module
 * /v1/pay/notify, where WeChat reports payments: raw XML → verify → the order's ledger (reconcile,
 * record, relay once) → XML ack. The signature is the only authentication, so no field is read
 * before it verifies, and WeChat hears SUCCESS only once the shop has the payment (else it
 * retries, reference §6). /v1/pay/notify/refund takes refund results: unsigned, their `req_info`
 * encrypted with the API key, so a decrypted notice is only a hint the ledger confirms with
 * refundquery before anything is recorded (refunds reference §3). A verified notification with
 * result_code FAIL is logged and acknowledged: WeChat would otherwise resend it for 24 hours.
 * Under WXPAY_API_VERSION=v3 a signed JSON notification goes to notify-v3.ts; v2 XML is still taken
 * while WXPAY_API_KEY is set, since WeChat notifies an order in the form of the API that placed it.
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { type Config, loadConfig } from '../config'
import { PayError } from '../errors'
import { ledgerOf } from '../ledger/stub'
import { readPayment } from '../wechat/payment'
import { type RefundNotice, refundNoticeOf } from '../wechat/refund'
import { decryptRefundNotice, RefundNoticeError } from '../wechat/refund-notify'
import { verify } from '../wechat/sign'
import { isV3Notification, refused } from '../wechat/v3/notify'
import { decode, type Fields, XmlError } from '../wechat/xml'
import { notifyV3 } from './notify-v3'
import { readRawBody } from './raw-body'

/** Real notifications are about 1 KB; anything above this is refused unread. */
export const MAX_NOTIFY_BYTES = 16 * 1024

/**
 * Every reason a notification is refused, and what WeChat is told (the log keeps the reason and
 * its detail). Each refusal changes nothing and relays nothing; WeChat retries.
 */
const REFUSALS = {
  too_large: 'body too large',
  unparsable: 'invalid XML',
  not_utf8: 'body is not UTF-8',
  bad_signature: 'signature does not verify',
  not_success: 'not a successful payment',
  wrong_merchant: 'appid or mch_id is not this merchant',
  appid_mismatch: "appid is not the order's",
  malformed: 'missing or invalid payment fields',
  undecryptable: 'req_info does not decrypt',
  unknown_order: 'order unknown',
  unknown_refund: 'refund unknown',
  not_confirmed: 'refund state not confirmed yet',
  amount_mismatch: 'total_fee does not match the order',
  transaction_mismatch: 'transaction_id does not match the order',
  relay_failed: 'merchant backend unavailable',
  config: 'temporarily unable to process',
  internal: 'temporarily unable to process',
} as const
export type RefusalReason = keyof typeof REFUSALS

const SUCCESS_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'
const failXml = (message: string) =>
  `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[${message}]]></return_msg></xml>`

type Detail = Record<string, string | number | undefined>

/** A refusal: the reason and its detail go to the log, the reason's message to WeChat. */
class Rejected extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly detail: Detail = {},
  ) {
    super(REFUSALS[reason])
  }
}

type Handler = (request: Request, env: Env) => Promise<void>

/** Answers WeChat in XML: SUCCESS once `handle` returns, FAIL (logged with its reason) when it throws. */
function acknowledge(handle: Handler, event: string) {
  return async (c: Context<{ Bindings: Env }>) => {
    const xml = (body: string, status: 200 | 413 = 200) =>
      c.body(body, status, { 'content-type': 'text/xml; charset=utf-8' })
    try {
      // v3's signed JSON, or JSON that claims to be it without the signature headers: under v3 the
      // v3 reader refuses the latter as unsigned (it is no v2 XML with a bad shape).
      const headers = c.req.raw.headers
      if (isV3Notification(headers) || /^application\/json\b/i.test(headers.get('content-type') ?? '')) {
        const config = loadConfig(c.env)
        if (config.v3) return await v3(c.req.raw, c.env, config, event)
      }
      await handle(c.req.raw, c.env)
      return xml(SUCCESS_XML)
    } catch (err) {
      const rejected = logged(err, event)
      return xml(failXml(rejected.message), rejected.reason === 'too_large' ? 413 : 200)
    }
  }
}

/** A v3 notification (signed JSON): read whole, then verified and answered the v3 way (notify-v3.ts). */
async function v3(request: Request, env: Env, config: Config, event: string): Promise<Response> {
  try {
    const body = await readRawBody(request, MAX_NOTIFY_BYTES)
    if (!body.ok) throw new Rejected(body.reason)
    return await notifyV3({ headers: request.headers, body: body.bytes }, env, config, event)
  } catch (err) {
    const rejected = logged(err, event)
    return refused(rejected.message, rejected.reason === 'too_large' ? 413 : 500)
  }
}

export const notify = new Hono<{ Bindings: Env }>()
  .post('/', acknowledge(handle, 'notify_rejected'))
  .post('/refund', acknowledge(handleRefund, 'refund_notify_rejected'))

/** The refusal `err` stands for, logged once with its reason and detail (never a secret). */
function logged(err: unknown, event: string): Rejected {
  const rejected = asRejected(err)
  console.warn(JSON.stringify({ event, reason: rejected.reason, ...rejected.detail }))
  return rejected
}

/** Anything unexpected is still a refusal: WeChat retries, and the log keeps what went wrong. */
function asRejected(err: unknown): Rejected {
  if (err instanceof Rejected) return err
  const reason = err instanceof PayError && err.failure.kind === 'config' ? 'config' : 'internal'
  const error = err instanceof PayError ? err.message : err instanceof Error ? err.name : 'unknown'
  return new Rejected(reason, { error })
}

/** Returns once the shop has the payment; throws the refusal that makes WeChat retry otherwise. */
async function handle(request: Request, env: Env): Promise<void> {
  const body = await readRawBody(request, MAX_NOTIFY_BYTES)
  if (!body.ok) throw new Rejected(body.reason)
  const fields = parse(body.text)
  const config = loadConfig(env)
  if (!(await verify(fields, config.apiKey))) throw new Rejected('bad_signature')
  // Verified: from here on the fields are WeChat's.
  if (fields.return_code !== 'SUCCESS') throw new Rejected('not_success', { return_code: fields.return_code })
  if (!isMerchant(fields, config)) {
    throw new Rejected('wrong_merchant', { appid: fields.appid, mch_id: fields.mch_id })
  }
  // A failed payment is news, not a payment: understood, so WeChat must not resend it for 24 h.
  if (fields.result_code === 'FAIL') return logFailed('payment', fields)
  if (fields.result_code !== 'SUCCESS') throw new Rejected('not_success', { result_code: fields.result_code })
  const found = readPayment(fields)
  if (!found.ok) throw new Rejected('malformed', { out_trade_no: fields.out_trade_no, error: found.reason })
  const { payment } = found
  const outcome = await ledgerOf(env, payment.out_trade_no).notifyPayment(payment, fields.appid as string)
  if (!outcome.ok) throw new Rejected(outcome.reason, { out_trade_no: payment.out_trade_no, ...outcome.detail })
}

/** Returns once the shop has the refund's confirmed final state; throws the refusal otherwise. */
async function handleRefund(request: Request, env: Env): Promise<void> {
  const body = await readRawBody(request, MAX_NOTIFY_BYTES)
  if (!body.ok) throw new Rejected(body.reason)
  const outer = parse(body.text)
  const config = loadConfig(env)
  if (outer.return_code !== 'SUCCESS') throw new Rejected('not_success', { return_code: outer.return_code })
  if (!isMerchant(outer, config)) {
    throw new Rejected('wrong_merchant', { appid: outer.appid, mch_id: outer.mch_id })
  }
  let fields: Fields
  try {
    fields = await decryptRefundNotice(outer.req_info ?? '', config.apiKey)
  } catch (err) {
    if (err instanceof RefundNoticeError) throw new Rejected('undecryptable', { error: err.reason })
    throw err
  }
  // req_info decrypted under the merchant's key: the message is WeChat's. A FAIL is understood as such.
  if (outer.result_code === 'FAIL') return logFailed('refund', { ...outer, ...fields })
  let notice: RefundNotice
  try {
    notice = refundNoticeOf(fields)
  } catch (err) {
    if (err instanceof PayError)
      throw new Rejected('malformed', { out_refund_no: fields.out_refund_no, error: err.message })
    throw err
  }
  const outcome = await ledgerOf(env, notice.out_trade_no).notifyRefund(notice, outer.appid as string)
  if (!outcome.ok) throw new Rejected(outcome.reason, { out_trade_no: notice.out_trade_no, ...outcome.detail })
}

/** One of the merchant's appids and its mch_id; whether the appid is the order's, the ledger decides. */
function isMerchant(fields: Fields, config: Config): boolean {
  return fields.appid !== undefined && config.appids.includes(fields.appid) && fields.mch_id === config.mchId
}

/** Logs a verified result_code=FAIL notification, which is acknowledged and changes nothing. */
function logFailed(kind: 'payment' | 'refund', fields: Fields): void {
  const { out_trade_no, out_refund_no, err_code, err_code_des } = fields
  console.info(
    JSON.stringify({ event: 'notify_result_fail', kind, out_trade_no, out_refund_no, err_code, err_code_des }),
  )
}

function parse(text: string): Fields {
  try {
    return decode(text)
  } catch (err) {
    if (err instanceof XmlError) throw new Rejected('unparsable', { error: err.message })
    throw err
  }
}
