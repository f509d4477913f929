/**
 * @module
 * WeChat Pay v3 notifications at /v1/pay/notify and /v1/pay/notify/refund (v3 reference §5): signed
 * JSON, verified over the raw bytes before the AES-GCM resource is decrypted (wechat/v3/notify.ts).
 * A payment goes the same ledger path as v2's (recorded once, relayed once); a refund notice is only
 * a hint the ledger confirms with a refund query. WeChat hears 204 once the shop has it, or
 * `{"code":"FAIL","message":…}` with a 4xx/5xx so it sends the notification again (§5.3). A verified
 * transaction that is not SUCCESS is logged and acknowledged, like v2's result_code FAIL.
 */
import type { Config } from '../config'
import { ledgerOf } from '../ledger/stub'
import { createV3Client } from '../wechat/v3/client'
import { acknowledged, readNotification, refused } from '../wechat/v3/notify'

type Detail = Record<string, string | number | undefined>

/** Logs why a notification was refused (never its content) and asks WeChat to send it again. */
function refuse(event: string, reason: string, message: string, status: number, detail: Detail = {}): Response {
  console.warn(JSON.stringify({ event, reason, ...detail }))
  return refused(message, status)
}

/** Reads, verifies and hands a v3 notification to its order's ledger; answers WeChat. */
export async function notifyV3(
  message: { headers: Headers; body: Uint8Array },
  env: Env,
  config: Config,
  event: string,
): Promise<Response> {
  const wechat = createV3Client({ config, kv: env.ORDERS })
  const read = await readNotification(message, { config, keys: wechat.keys, now: Date.now() })
  if (!read.ok) {
    // A signature that does not hold is not WeChat speaking: 401, and nothing else is read.
    const signature = ['unsigned', 'unknown_serial', 'stale', 'probe', 'bad_signature'].includes(read.reason)
    return refuse(event, read.reason, read.detail, signature ? 401 : 400, { error: read.detail })
  }
  const { notification } = read
  if (notification.kind === 'unpaid') {
    const { out_trade_no, trade_state } = notification
    console.info(JSON.stringify({ event: 'notify_result_fail', kind: 'payment', out_trade_no, trade_state }))
    return acknowledged()
  }
  const outcome =
    notification.kind === 'payment'
      ? await ledgerOf(env, notification.payment.out_trade_no).notifyPayment(notification.payment, notification.appid)
      : await ledgerOf(env, notification.notice.out_trade_no).notifyRefund(notification.notice, undefined)
  if (outcome.ok) return acknowledged()
  const out_trade_no =
    notification.kind === 'payment' ? notification.payment.out_trade_no : notification.notice.out_trade_no
  return refuse(event, outcome.reason, outcome.message, 500, { out_trade_no, ...outcome.detail })
}
