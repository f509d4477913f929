/**
 * @module
 * The one way the service reaches WeChat Pay: {@link createWechat} answers the v2 client or the v3
 * client by `config.apiVersion` (WXPAY_API_VERSION). Both speak the same interface — v2-shaped
 * fields in and out, and the daily bill as a byte stream — so nothing above src/wechat/ knows which
 * API is in use.
 */
import type { Config } from '../config'
import { type BillRequest, type Client, createClient, type Transport } from './client'
import type { BillStreamReply } from './v3/bill'
import { createV3Client } from './v3/client'
import type { KeyValue } from './v3/keys'

export type { BillStreamReply } from './v3/bill'

export type WechatOptions = {
  config: Config
  fetch?: typeof fetch
  /** v2 only: the client-certificate transport for refunds (v3 needs none). */
  certFetch?: Transport
  nonce?: () => string
  /** v3 only: milliseconds since the epoch. */
  now?: () => number
  /** v3 certificate mode: where platform certificates are kept (`env.ORDERS`). */
  kv?: KeyValue
}

/** What the service asks of WeChat, whichever the version. */
export type Wechat = Pick<Client, 'call'> & { bill(request: BillRequest): Promise<BillStreamReply> }

/**
 * @example const wechat = createWechat({ config, kv: env.ORDERS }); await wechat.call('/pay/orderquery', { out_trade_no })
 */
export function createWechat(options: WechatOptions): Wechat {
  const { config, fetch, certFetch, nonce, now, kv } = options
  if (config.apiVersion === 'v3') {
    return createV3Client({
      config,
      ...(fetch && { fetch }),
      ...(nonce && { nonce }),
      ...(now && { now }),
      ...(kv && { kv }),
    })
  }
  const v2 = createClient({ config, ...(fetch && { fetch }), ...(certFetch && { certFetch }), ...(nonce && { nonce }) })
  return {
    call: (path, fields) => v2.call(path, fields),
    async bill(request) {
      // v2's bill() answered the CSV as text before it answered a stream; either is passed on as a stream.
      const answer = (await v2.bill(request)) as Awaited<ReturnType<Client['bill']>> | BillStreamReply
      if (answer.kind === 'bill' && 'csv' in answer)
        return { kind: 'bill', body: new Blob([String(answer.csv)]).stream() }
      return answer as BillStreamReply
    },
  }
}
