/**
 * @module
 * What the ledger asks of the outside: the configuration it runs under and the WeChat client (v2 or
 * v3 by WXPAY_API_VERSION; under v2 with the merchant certificate binding when there is one, for
 * `/secapi/` calls). Every call about an order names the order's appid ({@link Upstream.appidOf}):
 * WeChat answers for that appid only.
 */
import { type Config, loadConfig } from '../config'
import { createWechat, type Wechat } from '../wechat'
import { appidOf, type OrderRecord } from './record'

export class Upstream {
  constructor(private readonly env: Env) {}

  config(): Config {
    return loadConfig(this.env)
  }

  /** The appid the order was placed under (the default for a record without one). */
  appidOf(record: Pick<OrderRecord, 'appid'>, config = this.config()): string {
    return appidOf(record, config.appid)
  }

  client(config = this.config()): Wechat {
    const cert = this.env.WXPAY_CERT
    return createWechat({
      config,
      kv: this.env.ORDERS,
      ...(cert && { certFetch: (url, init) => cert.fetch(url, init) }),
    })
  }
}
