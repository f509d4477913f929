/**
 * @module
 * The refund notification as WeChat sends it (refunds reference §3): an outer `<xml>` with
 * return_code, appid, mch_id, nonce_str and req_info — no sign — where req_info is the refund's
 * fields as a `<root>` document (alphabetical, every value in CDATA, one per line) encrypted with
 * AES-256-ECB under the lower-case hex MD5 of the API key, base64.
 */
import { aesEcbEncrypt, toBase64 } from '../crypto'
import { noticeKey } from '../wechat/refund-notify'
import { encode } from '../wechat/xml'
import { nonce } from './ids'
import type { Order, Refund } from './orders'
import { RECEIVED_BY } from './refund'
import { beijingDateTime } from './time'

const encoder = new TextEncoder()

/**
 * Encrypts fields into a req_info the way WeChat does.
 * @example await encryptRefundNotice({ refund_status: 'SUCCESS', … }, apiKey) // 'eF9V96Fn…'
 */
export async function encryptRefundNotice(fields: Readonly<Record<string, string>>, apiKey: string): Promise<string> {
  const lines = Object.keys(fields)
    .sort()
    .map((name) => `<${name}><![CDATA[${(fields[name] ?? '').replaceAll(']]>', ']]]]><![CDATA[>')}]]></${name}>`)
  const plain = `<root>\n${lines.join('\n')}\n</root>`
  return toBase64(await aesEcbEncrypt(await noticeKey(apiKey), encoder.encode(plain)))
}

/** The §3.3 fields of a completed refund. */
export function noticeFields(order: Order, refund: Refund): Record<string, string> {
  const fields: Record<string, string> = {
    out_refund_no: refund.out_refund_no,
    out_trade_no: order.out_trade_no,
    refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
    refund_fee: refund.refund_fee,
    refund_id: refund.refund_id,
    refund_recv_accout: RECEIVED_BY,
    refund_request_source: 'API',
    refund_status: refund.status,
    settlement_refund_fee: refund.refund_fee,
    settlement_total_fee: refund.total_fee,
    total_fee: refund.total_fee,
    transaction_id: order.payment?.transaction_id ?? '',
  }
  if (refund.status === 'SUCCESS' && refund.completed_at !== undefined) {
    fields.success_time = beijingDateTime(refund.completed_at)
  }
  return fields
}

/** The notification body: outer XML, unsigned (§3.1). */
export async function refundNotification(options: { order: Order; refund: Refund; key: string }): Promise<string> {
  const { order, refund, key } = options
  return encode({
    return_code: 'SUCCESS',
    appid: order.request.appid ?? '',
    mch_id: order.request.mch_id ?? '',
    nonce_str: nonce(),
    req_info: await encryptRefundNotice(noticeFields(order, refund), key),
  })
}
