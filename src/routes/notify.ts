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
import { paymentOf } from '../wechat/payment'
import { verify } from '../wechat/sign'
import { decode, type Fields, XmlError } from '../wechat/xml'
import { readRawBody } from './raw-body'
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
    await handle(c.req.raw, c.env)
    return xml(SUCCESS_XML)
  } catch (err) {
    const rejected = asRejected(err)
    console.warn(JSON.stringify({ event: 'notify_rejected', reason: rejected.reason, ...rejected.detail }))
    return xml(failXml(rejected.message), rejected.reason === 'too_large' ? 413 : 200)
  }
})

/** Anything unexpected is still a refusal: WeChat retries, and the log keeps what went wrong. */
function asRejected(err: unknown): Rejected {
  if (err instanceof Rejected) return err
  const reason = err instanceof PayError && err.failure.kind === 'config' ? 'config' : 'internal'
  const error = err instanceof PayError ? err.message : err instanceof Error ? err.name : 'unknown'
  return new Rejected(reason, 'temporarily unable to process', { error })
}

/** Returns once the shop has the payment; throws the refusal that makes WeChat retry otherwise. */
async function handle(request: Request, env: Env): Promise<void> {
  const body = await readRawBody(request, MAX_NOTIFY_BYTES)
  if (!body.ok)
    throw new Rejected(
      body.reason === 'too_large' ? 'too_large' : 'unparsable',
      body.reason === 'too_large' ? 'body too large' : 'body is not UTF-8',
    )
  const fields = parse(body.text)
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
  if (!payment)
    throw new Rejected('malformed', 'missing or invalid payment fields', { out_trade_no: fields.out_trade_no })
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
  if (record.relayed_at) return // a duplicate of a delivered notification

  const facts = {
    trade_state: 'SUCCESS' as const,
    transaction_id: payment.transaction_id,
    time_end: payment.time_end,
    cash_fee: payment.cash_fee,
    bank_type: payment.bank_type,
    openid: payment.openid,
  }
  const result = await relay(
    record.notify_url,
    { type: 'payment', data: payment },
    {
      secrets: config.notifySecrets,
      timeoutMs: config.relayTimeoutMs,
    },
  )
  // One write per delivery (KV allows one a second per key): the state, and the relay if it landed.
  await saveOrder(
    env.ORDERS,
    out_trade_no,
    result.delivered ? { ...facts, relayed_at: new Date().toISOString() } : facts,
    null,
  )
  if (!result.delivered)
    throw new Rejected('relay_failed', 'merchant backend unavailable', { out_trade_no, error: result.reason })
}

function parse(text: string): Fields {
  try {
    return decode(text)
  } catch (err) {
    if (err instanceof XmlError) throw new Rejected('unparsable', 'invalid XML', { error: err.message })
    throw err
  }
}
