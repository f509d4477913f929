/**
 * @module
 * v3 notifications (v3 reference §5): signed JSON whose `resource` is AEAD_AES_256_GCM-sealed under
 * the APIv3 key. The signature is checked over the raw bytes first; only then is the body parsed and
 * the resource decrypted. A payment becomes the same {@link Payment} v2's notification gives (appid,
 * mchid, CNY, payer_total ≤ total, trade_state SUCCESS; the ledger compares total with the order),
 * a refund the same {@link RefundNotice}. WeChat's acknowledgement rules (§5.3): 204 on success,
 * 4xx/5xx with `{"code":"FAIL","message":…}` to have it sent again.
 */
import type { Config } from '../../config'
import { PayError } from '../../errors'
import { type Payment, readPayment } from '../payment'
import type { RefundNotice } from '../refund'
import { aesGcmDecrypt, CipherError } from './crypto'
import { object, transactionFields } from './orders'
import { refundNoticeOfV3 } from './refunds'
import { type KeyRing, type Refusal, verifySigned } from './sign'

export type V3Notification =
  | { kind: 'payment'; id: string; payment: Payment; appid: string }
  /** A verified transaction that is not a payment (trade_state not SUCCESS): news that moves nothing. */
  | { kind: 'unpaid'; id: string; out_trade_no: string; trade_state: string }
  | { kind: 'refund'; id: string; event_type: string; notice: RefundNotice }

/** Why a notification was refused: a signature failure ({@link Refusal}) or what the verified message says. */
export type NotificationRefusal =
  | Refusal
  | 'unparsable'
  | 'event_type'
  | 'undecryptable'
  | 'wrong_merchant'
  | 'malformed'

export type NotificationResult =
  | { ok: true; notification: V3Notification }
  | { ok: false; reason: NotificationRefusal; detail: string }

const PAYMENT_EVENTS = new Set(['TRANSACTION.SUCCESS'])
const REFUND_EVENTS = new Set(['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'])
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * Reads a v3 notification: verified, decrypted, checked.
 * @example const read = await readNotification({ headers: c.req.raw.headers, body }, { config, keys: wechat.keys, now: Date.now() })
 */
export async function readNotification(
  message: { headers: Headers; body: Uint8Array },
  options: { config: Config; keys: KeyRing; now: number },
): Promise<NotificationResult> {
  const refuse = (reason: NotificationRefusal, detail: string): NotificationResult => ({ ok: false, reason, detail })
  const { config } = options
  const apiV3Key = config.v3?.apiV3Key
  if (!apiV3Key) return refuse('wrong_merchant', 'WXPAY_API_VERSION is not v3')
  const verdict = await verifySigned(message.headers, message.body, { keys: options.keys, now: options.now })
  if (!verdict.ok) return refuse(verdict.reason, 'the signature does not hold')
  // Verified: from here on the bytes are WeChat's.
  let envelope: Record<string, unknown>
  try {
    envelope = object(JSON.parse(utf8.decode(message.body)))
  } catch {
    return refuse('unparsable', 'the body is not JSON')
  }
  const event = typeof envelope.event_type === 'string' ? envelope.event_type : ''
  const id = typeof envelope.id === 'string' ? envelope.id : ''
  const payment = PAYMENT_EVENTS.has(event)
  if (!payment && !REFUND_EVENTS.has(event))
    return refuse('event_type', `event_type ${event.slice(0, 40) || 'missing'}`)
  const resource = object(envelope.resource)
  const expected = payment ? 'transaction' : 'refund'
  if (
    resource.algorithm !== 'AEAD_AES_256_GCM' ||
    typeof resource.ciphertext !== 'string' ||
    typeof resource.nonce !== 'string'
  )
    return refuse('malformed', 'resource is not AEAD_AES_256_GCM')
  if (typeof resource.original_type === 'string' && resource.original_type !== expected)
    return refuse('malformed', `${event} carries a ${resource.original_type.slice(0, 20)} resource`)
  let plain: Record<string, unknown>
  try {
    const bytes = await aesGcmDecrypt(apiV3Key, {
      nonce: resource.nonce,
      associated_data: typeof resource.associated_data === 'string' ? resource.associated_data : '',
      ciphertext: resource.ciphertext,
    })
    plain = object(JSON.parse(utf8.decode(bytes)))
  } catch (err) {
    if (err instanceof CipherError)
      return refuse('undecryptable', 'the resource does not decrypt under WXPAY_APIV3_KEY')
    return refuse('malformed', 'the decrypted resource is not JSON')
  }
  const appid = typeof plain.appid === 'string' ? plain.appid : ''
  // One of the merchant's appids; whether it is the order's, the ledger decides.
  if (plain.mchid !== config.mchId || (payment && !config.appids.includes(appid)))
    return refuse('wrong_merchant', `${expected} for another appid or mchid`)
  if (payment && plain.trade_state !== 'SUCCESS') {
    const outTradeNo = typeof plain.out_trade_no === 'string' ? plain.out_trade_no : ''
    const state = typeof plain.trade_state === 'string' ? plain.trade_state.slice(0, 32) : 'missing'
    return { ok: true, notification: { kind: 'unpaid', id, out_trade_no: outTradeNo, trade_state: state } }
  }
  if (payment) {
    let found: ReturnType<typeof readPayment>
    try {
      found = readPayment(transactionFields(plain))
    } catch (err) {
      if (err instanceof PayError) return refuse('malformed', err.message)
      throw err
    }
    if (!found.ok) return refuse('malformed', found.reason)
    return { ok: true, notification: { kind: 'payment', id, payment: found.payment, appid } }
  }
  try {
    return { ok: true, notification: { kind: 'refund', id, event_type: event, notice: refundNoticeOfV3(plain) } }
  } catch (err) {
    if (err instanceof PayError) return refuse('malformed', err.message)
    throw err
  }
}

/** The acknowledgement of a notification taken: 204, no body (§5.3). */
export function acknowledged(): Response {
  return new Response(null, { status: 204 })
}

/**
 * The answer that makes WeChat send the notification again: 4xx/5xx with `{"code":"FAIL","message":…}` (§5.3).
 * @example return refused('the shop did not answer', 503)
 */
export function refused(message: string, status = 500): Response {
  return Response.json({ code: 'FAIL', message }, { status })
}

/** Whether a request looks like a v3 notification (signed JSON) rather than v2 XML (§10: route by shape). */
export function isV3Notification(headers: Headers): boolean {
  return headers.has('wechatpay-signature') && headers.has('wechatpay-serial')
}
