/**
 * @module
 * /v1/pay/notify, where WeChat reports payments: raw XML → verify → reconcile → record → relay →
 * XML ack. The signature is the only authentication, so no field is read before it verifies, and
 * WeChat hears SUCCESS only once the shop has the payment (else it retries, reference §6).
 */
import { Hono } from 'hono'
import { loadConfig } from '../config'
import { PayError } from '../errors'
import { getOrder, saveOrder } from '../orders/store'
import { relay } from '../relay'
import { createClient } from '../wechat/client'
import { amount, toOrderView } from '../wechat/order'
import { verify } from '../wechat/sign'
import { decode, type Fields, XmlError } from '../wechat/xml'
import { confirmUnmatched } from './unmatched'

/** Real notifications are about 1 KB; anything above this is refused unread. */
export const MAX_NOTIFY_BYTES = 16 * 1024

const SUCCESS_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'
const failXml = (message: string) =>
  `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[${message}]]></return_msg></xml>`

/** A refusal: `reason` goes to the log, `message` to WeChat. */
class Rejected extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly detail: Record<string, string | number | undefined> = {},
  ) {
    super(message)
  }
}

export const notify = new Hono<{ Bindings: Env }>().post('/', async (c) => {
  const xml = (body: string, status: 200 | 413 = 200) =>
    c.body(body, status, { 'content-type': 'text/xml; charset=utf-8' })
  try {
    const outcome = await handle(c.req.raw, c.env)
    return xml(outcome === 'ack' ? SUCCESS_XML : failXml(outcome))
  } catch (err) {
    const rejected =
      err instanceof Rejected
        ? err
        : err instanceof PayError
          ? new Rejected(err.failure.kind === 'config' ? 'config' : 'internal', 'temporarily unable to process', {
              error: err.message,
            })
          : new Rejected('internal', 'temporarily unable to process', {
              error: err instanceof Error ? err.name : 'unknown',
            })
    console.warn(JSON.stringify({ event: 'notify_rejected', reason: rejected.reason, ...rejected.detail }))
    return xml(failXml(rejected.message), rejected.reason === 'too_large' ? 413 : 200)
  }
})

/** Returns 'ack' once the shop has the payment, or the FAIL message that makes WeChat retry. */
async function handle(request: Request, env: Env): Promise<'ack' | string> {
  const fields = parse(await readLimited(request))
  const config = loadConfig(env)
  if (!(await verify(fields, config.apiKey))) throw new Rejected('bad_signature', 'signature does not verify')
  // Verified: from here on the fields are WeChat's.
  if (fields.return_code !== 'SUCCESS' || fields.result_code !== 'SUCCESS') {
    throw new Rejected('not_success', 'not a successful payment', {
      return_code: fields.return_code,
      result_code: fields.result_code,
    })
  }
  if (fields.appid !== config.appid || fields.mch_id !== config.mchId) {
    throw new Rejected('wrong_merchant', 'appid or mch_id is not this merchant', {
      appid: fields.appid,
      mch_id: fields.mch_id,
    })
  }
  const payment = paymentOf(fields)
  const { out_trade_no } = payment
  const record = await getOrder(env.ORDERS, out_trade_no)
  if (!record) {
    const confirmation = await confirmUnmatched(env.ORDERS, createClient({ config }), payment)
    if (!confirmation.confirmed) {
      throw new Rejected('unknown_order', 'order unknown', { out_trade_no, error: confirmation.reason })
    }
    throw new Rejected('no_record_yet', 'order record not visible yet, retry later', { out_trade_no })
  }
  if (payment.total_fee !== record.total_fee) {
    throw new Rejected('amount_mismatch', 'total_fee does not match the order', {
      out_trade_no,
      notified: payment.total_fee,
      recorded: record.total_fee,
    })
  }
  if (record.transaction_id && record.transaction_id !== payment.transaction_id) {
    throw new Rejected('transaction_mismatch', 'transaction_id does not match the order', { out_trade_no })
  }
  if (record.relayed_at) return 'ack' // a duplicate of a delivered notification

  const facts = {
    trade_state: 'SUCCESS' as const,
    transaction_id: payment.transaction_id,
    time_end: payment.time_end,
    cash_fee: payment.cash_fee,
    bank_type: payment.bank_type,
    openid: payment.openid,
  }
  const result = await relay(record.notify_url, payment, {
    secret: config.notifySecret,
    timeoutMs: config.relayTimeoutMs,
  })
  // One write per delivery (KV allows one a second per key): the state, and the relay if it landed.
  await saveOrder(
    env.ORDERS,
    out_trade_no,
    result.delivered ? { ...facts, relayed_at: new Date().toISOString() } : facts,
    null,
  )
  if (!result.delivered)
    throw new Rejected('relay_failed', 'merchant backend unavailable', { out_trade_no, error: result.reason })
  return 'ack'
}

async function readLimited(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > MAX_NOTIFY_BYTES) throw new Rejected('too_large', 'body too large')
  if (!request.body) throw new Rejected('unparsable', 'empty body')
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_NOTIFY_BYTES) {
      await reader.cancel()
      throw new Rejected('too_large', 'body too large')
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw new Rejected('unparsable', 'body is not UTF-8')
  }
}

function parse(text: string): Fields {
  try {
    return decode(text)
  } catch (err) {
    if (err instanceof XmlError) throw new Rejected('unparsable', 'invalid XML', { error: err.message })
    throw err
  }
}

/** The payment as the shop receives it; a verified message still has to carry sane values. */
export type Payment = ReturnType<typeof paymentOf>

function paymentOf(fields: Fields) {
  const { out_trade_no, transaction_id, time_end } = fields
  const total_fee = amount(fields.total_fee)
  // cash_fee is documented as always sent; the doc's own sample lacks it: what was not paid by coupon.
  const cash_fee =
    fields.cash_fee !== undefined ? amount(fields.cash_fee) : diff(total_fee, amount(fields.coupon_fee ?? '0'))
  let view: ReturnType<typeof toOrderView> | undefined
  try {
    view = toOrderView(fields)
  } catch {}
  if (!out_trade_no || !transaction_id || !time_end || total_fee === undefined || cash_fee === undefined || !view) {
    throw new Rejected('malformed', 'missing or invalid payment fields', { out_trade_no })
  }
  return {
    out_trade_no,
    transaction_id,
    trade_state: 'SUCCESS' as const,
    total_fee,
    cash_fee,
    fee_type: fields.fee_type ?? 'CNY',
    time_end,
    openid: fields.openid ?? '',
    trade_type: fields.trade_type ?? '',
    bank_type: fields.bank_type ?? '',
    ...(fields.attach !== undefined && { attach: fields.attach }),
    ...(view.coupons !== undefined && { coupons: view.coupons }),
  }
}

function diff(total: number | undefined, coupon: number | undefined): number | undefined {
  return total !== undefined && coupon !== undefined && coupon <= total ? total - coupon : undefined
}
