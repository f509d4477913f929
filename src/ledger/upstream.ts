/**
 * @module
 * What the ledger asks of the outside: the configuration it runs under and the WeChat client
 * (with the merchant certificate binding when there is one, for `/secapi/` calls).
 */
import { type Config, loadConfig } from '../config'
import { type Client, createClient } from '../wechat/client'

export class Upstream {
  constructor(private readonly env: Env) {}

  config(): Config {
    return loadConfig(this.env)
  }

  client(config = this.config()): Client {
    const cert = this.env.WXPAY_CERT
    return createClient({ config, ...(cert && { certFetch: (url, init) => cert.fetch(url, init) }) })
  }
}
