/**
 * @module
 * The one way the service reaches WeChat Pay: {@link createWechat} answers the v2 client or the v3
 * client by `config.apiVersion` (WXPAY_API_VERSION). Both speak the same interface — v2-shaped
 * fields in and out, and the daily bill as a byte stream — so nothing above src/wechat/ knows which
 * API is in use.
 */
import type { Config } from '../config'
import { type Client, createClient, type Transport } from './client'
import { createV3Client } from './v3/client'
import type { KeyValue } from './v3/keys'

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

/** What the service asks of WeChat, whichever the version: the v2 {@link Client} interface. */
export type Wechat = Client

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
  return createClient({ config, ...(fetch && { fetch }), ...(certFetch && { certFetch }), ...(nonce && { nonce }) })
}
