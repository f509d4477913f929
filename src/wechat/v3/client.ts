/**
 * @module
 * The v3 client behind the v2 {@link Client} interface (issue 16): `call('/pay/unifiedorder', v2
 * fields)` goes to `POST /v3/pay/transactions/{jsapi|native|app|h5}` and answers the fields a v2
 * reply would carry (return_code and result_code SUCCESS, appid, mch_id, prepay_id, code_url,
 * mweb_url…), so nothing above src/wechat/ knows which API is in use. Every reply is verified
 * (http.ts) and checked to be about what was asked before it is answered.
 */
import type { Config, V3Config } from '../../config'
import { fail } from '../../errors'
import { type BillRequest, type Client, randomNonce, type WechatPath } from '../client'
import type { Fields } from '../xml'
import { type BillStreamReply, downloadBill } from './bill'
import { downloadCertificates } from './certificates'
import { replyError, type Subject } from './errors'
import { createHttp, type Reply } from './http'
import { createKeyRing, type KeyValue } from './keys'
import { object, orderRequest, transactionFields } from './orders'
import { RefundQueryByOrderError, refundQueryFields, refundReplyFields, refundRequest } from './refunds'
import type { KeyRing } from './sign'

export type V3ClientOptions = {
  config: Config
  fetch?: typeof fetch
  /** Milliseconds since the epoch. */
  now?: () => number
  nonce?: () => string
  /** Where platform certificates are kept (certificate mode): `env.ORDERS`. */
  kv?: KeyValue
}

/** The v2 Client, with bill() answering the decompressed CSV as a byte stream. */
export type V3Client = Pick<Client, 'call'> & {
  bill(request: BillRequest): Promise<BillStreamReply>
  /** The keys replies and notifications are verified with (for reading notifications). */
  keys: KeyRing
}

/** @example const wechat = createV3Client({ config, kv: env.ORDERS }); await wechat.call('/pay/orderquery', { out_trade_no }) */
export function createV3Client(options: V3ClientOptions): V3Client {
  const { config } = options
  const v3 = requireV3(config)
  const settings = { ...config, v3 }
  const now = options.now ?? Date.now
  const http = createHttp({
    config: settings,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now,
    nonce: options.nonce ?? randomNonce,
    keys: () => keys,
  })
  const keys: KeyRing = createKeyRing({
    v3,
    scope: `${config.mchId}|${config.apiBase}`,
    kv: options.kv,
    download: () => downloadCertificates(http, v3.apiV3Key, now),
    now,
  })
  const merchant = { appid: config.appid, mchid: config.mchId }
  const mchQuery = `mchid=${encodeURIComponent(config.mchId)}`

  /** The JSON of a verified 2xx reply; an error reply becomes its PayError. */
  function answer(reply: Reply, subject: Subject, what: string): Record<string, unknown> {
    // 202 is "accepted, not done" with a code (USER_PAYING, §7.1): an answer to branch on, not a result.
    if (reply.status < 200 || reply.status >= 300 || reply.status === 202)
      throw replyError(reply.status, reply.text, subject, what)
    if (reply.status === 204 || reply.text === '') return {}
    try {
      return object(JSON.parse(reply.text))
    } catch {
      throw fail('upstream', `the reply to ${what} is not JSON`)
    }
  }

  // An order's own appid (a request field, as the v2 client takes it) or the default one.
  const appidOf = (fields: Record<string, string>) => {
    const appid = fields.appid ?? config.appid
    // An order's appid no longer in WXPAY_APPID: the merchant unbound it, or the list lost it.
    if (!config.appids.includes(appid)) throw fail('config', `WXPAY_APPID does not list the order's appid ${appid}`)
    return appid
  }

  const success = (fields: Fields, appid = config.appid): Fields => ({
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid,
    mch_id: config.mchId,
    ...fields,
  })

  const calls: Record<WechatPath, (fields: Record<string, string>) => Promise<Fields>> = {
    async '/pay/unifiedorder'(fields) {
      const { target, body, type } = orderRequest(fields, { ...merchant, appid: appidOf(fields) })
      const reply = answer(await http.send({ method: 'POST', target, json: body }), 'order', target)
      const h5 = typeof reply.h5_url === 'string' ? reply.h5_url : undefined
      // H5 answers only h5_url; its prepay_id is in the URL's query (§6.4). NATIVE answers only code_url.
      const prepay =
        typeof reply.prepay_id === 'string'
          ? reply.prepay_id
          : h5 && URL.canParse(h5) && new URL(h5).searchParams.get('prepay_id')
      const placed: Fields = { trade_type: fields.trade_type as string }
      if (prepay) placed.prepay_id = prepay
      if (typeof reply.code_url === 'string') placed.code_url = reply.code_url
      if (h5) placed.mweb_url = h5
      if (!placed.prepay_id && !placed.code_url)
        throw fail('upstream', `the reply to ${target} has no prepay_id, code_url or h5_url (${type})`)
      return success(placed, appidOf(fields))
    },

    async '/pay/orderquery'(fields) {
      const no = fields.out_trade_no
      if (!no) throw fail('params', 'orderquery under WeChat Pay v3 needs out_trade_no')
      const target = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(no)}?${mchQuery}`
      const t = transactionFields(answer(await http.send({ method: 'GET', target }), 'order', 'orderquery'))
      if (t.out_trade_no !== no) throw fail('upstream', 'the orderquery reply is for another order')
      if (t.appid !== appidOf(fields) || t.mch_id !== config.mchId)
        throw fail('upstream', 'the reply to orderquery is for another appid or mch_id')
      if (!t.trade_state) throw fail('upstream', 'the orderquery reply has no trade_state')
      return success(t, appidOf(fields))
    },

    async '/pay/closeorder'(fields) {
      const no = fields.out_trade_no
      if (!no) throw fail('params', 'closeorder needs out_trade_no')
      const target = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(no)}/close`
      const reply = await http.send({ method: 'POST', target, json: { mchid: config.mchId } })
      answer(reply, 'order', 'closeorder')
      if (reply.status !== 204) throw fail('upstream', `closeorder answered HTTP ${reply.status}, not 204`)
      return success({})
    },

    async '/secapi/pay/refund'(fields) {
      // v3 signs refunds like any request: no client certificate (§6.10).
      const target = '/v3/refund/domestic/refunds'
      const reply = answer(await http.send({ method: 'POST', target, json: refundRequest(fields) }), 'order', 'refund')
      const receipt = refundReplyFields(reply)
      if (receipt.out_refund_no !== fields.out_refund_no || receipt.out_trade_no !== fields.out_trade_no)
        throw fail('upstream', 'the refund reply is for another refund')
      return success(receipt)
    },

    async '/pay/refundquery'(fields) {
      const no = fields.out_refund_no
      if (!no) throw new RefundQueryByOrderError()
      const target = `/v3/refund/domestic/refunds/${encodeURIComponent(no)}`
      const query = refundQueryFields(
        answer(await http.send({ method: 'GET', target, subject: 'refund' }), 'refund', 'refundquery'),
      )
      if (query.out_refund_no_0 !== no) throw fail('upstream', 'the refundquery reply is for another refund')
      return success(query)
    },
  }

  return {
    keys,
    call(path, fields) {
      const handler = Object.hasOwn(calls, path) ? calls[path] : undefined
      if (!handler) return Promise.reject(fail('internal', `${String(path)} has no WeChat Pay v3 counterpart`))
      try {
        // An appid WXPAY_APPID does not list never reaches WeChat.
        appidOf(fields)
      } catch (err) {
        return Promise.reject(err)
      }
      return handler(fields)
    },
    bill: (request) => downloadBill(http, request, [config.apiBase, config.apiBaseBackup]),
  }
}

/** The v3 settings of a v3 configuration. @throws {PayError} `config` when WXPAY_API_VERSION is not v3. */
export function requireV3(config: Config): V3Config {
  if (config.apiVersion !== 'v3' || !config.v3) throw fail('config', 'WXPAY_API_VERSION is not v3')
  return config.v3
}
