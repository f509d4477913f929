/**
 * @module
 * One call to WeChat Pay v2: sign, post, time out, fall back to the backup domain on a transport
 * failure, and decide in WeChat's order (协议规则): return_code, then the reply's signature (before
 * any other field is read), then result_code.
 *
 * `/secapi/*` (refunds) needs the merchant's client certificate (refunds reference §1): to WeChat's
 * own domains it goes only through `certFetch`, the Workers mTLS binding `WXPAY_CERT`, and without
 * one it is refused before anything is sent. To any other base (the sandbox, a simulator) it goes
 * over plain fetch. `downloadbill` answers CSV, not XML: it has its own method, {@link Client.bill}.
 */
import type { Config } from '../config'
import { fail, PayError } from '../errors'
import { log } from '../log'
import { sign, verify } from './sign'
import { decode, encode, type Fields, XmlError } from './xml'

export type WechatPath =
  | '/pay/unifiedorder'
  | '/pay/orderquery'
  | '/pay/closeorder'
  | '/secapi/pay/refund'
  | '/pay/refundquery'

/** What a transport must do: the platform's `fetch`, or a `Fetcher`'s (`env.WXPAY_CERT.fetch`). */
export type Transport = (input: string, init: RequestInit) => Promise<Response>

export type ClientOptions = {
  config: Config
  /** The transport; the platform's fetch unless a caller passes its own. */
  fetch?: typeof fetch
  /**
   * The client-certificate transport for `/secapi/*` to WeChat's domains: the mTLS binding's fetch,
   * e.g. `(url, init) => env.WXPAY_CERT.fetch(url, init)`.
   */
  certFetch?: Transport
  /** A fresh nonce_str (≤ 32 characters). */
  nonce?: () => string
}

/** downloadbill's answer: the bill's CSV text, or WeChat's word that there is none for that day. */
export type BillReply = { kind: 'bill'; csv: string } | { kind: 'none'; message: string }

export type BillRequest = {
  /** The Beijing day, `yyyyMMdd`. */
  bill_date: string
  /** Only ALL is parsed by bill.ts; the others are WeChat's other formats (refunds reference §4.1). */
  bill_type: 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND'
}

export type Client = {
  /** Sends `fields` (appid, mch_id, nonce_str, sign_type and sign are added) and returns the verified reply. */
  call(path: WechatPath, fields: Record<string, string>): Promise<Fields>
  /** `/pay/downloadbill`, uncompressed. "No bill for that day" is `{ kind: 'none' }`, not an error. */
  bill(request: BillRequest): Promise<BillReply>
}

/** WeChat's own API hosts (api, api2 and the other `*.mch.weixin.qq.com`): the ones that demand the certificate. */
export function isWechatHost(base: string): boolean {
  const host = URL.canParse(base) ? new URL(base).hostname : ''
  return host === 'mch.weixin.qq.com' || host.endsWith('.mch.weixin.qq.com')
}

/** A reply that is not from WeChat at all: worth one more try on the backup domain. */
class TransportError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message)
  }
}

/**
 * @example const wechat = createClient({ config }); const reply = await wechat.call('/pay/orderquery', { out_trade_no })
 */
export function createClient(options: ClientOptions): Client {
  const { config, fetch: plain = fetch, certFetch, nonce = randomNonce } = options

  function transportFor(base: string, path: string): Transport {
    if (!path.startsWith('/secapi/') || !isWechatHost(base)) return (input, init) => plain(input, init)
    if (!certFetch) {
      throw fail(
        'config',
        `${path} needs the merchant's client certificate: bind it as WXPAY_CERT ([[mtls_certificates]] in wrangler.toml)`,
      )
    }
    return certFetch
  }

  /** One POST; resolves with the body text of any answer below HTTP 500. */
  async function exchange(transport: Transport, url: string, body: string): Promise<{ status: number; text: string }> {
    try {
      const response = await transport(url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      })
      const text = await response.text()
      if (response.status >= 500) throw new TransportError(`HTTP ${response.status}`)
      return { status: response.status, text }
    } catch (err) {
      if (err instanceof TransportError) throw err
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new TransportError(timedOut ? `no reply within ${config.timeoutMs} ms` : 'network error', timedOut)
    }
  }

  function asXml({ status, text }: { status: number; text: string }): Fields {
    try {
      const reply = decode(text)
      if (reply.return_code === undefined) throw new XmlError('no return_code')
      return reply
    } catch (err) {
      if (err instanceof XmlError) throw new TransportError(`HTTP ${status} reply is not WeChat Pay XML`)
      throw err
    }
  }

  /** Signs and sends to the main domain, then the backup on a transport failure; `read` may reject a reply as a transport failure. */
  async function send<T>(
    path: string,
    fields: Record<string, string>,
    read: (answer: { status: number; text: string }) => T,
  ) {
    const bases = [config.apiBase, config.apiBaseBackup]
    // Both transports are chosen before anything is sent: a refusal never follows a request.
    const transports = bases.map((base) => transportFor(base, path))
    const request: Record<string, string> = {
      ...fields,
      appid: config.appid,
      mch_id: config.mchId,
      nonce_str: nonce(),
      sign_type: config.signType,
    }
    request.sign = await sign(request, config.apiKey, config.signType)
    const body = encode(request)

    let lastError: TransportError | undefined
    let allTimedOut = true
    for (const [i, base] of bases.entries()) {
      try {
        return read(await exchange(transports[i] as Transport, `${base}${path}`, body))
      } catch (err) {
        if (!(err instanceof TransportError)) throw err
        lastError = err
        allTimedOut &&= err.timedOut
        log('warn', { event: 'wechat_transport_failure', path, base, reason: err.message })
      }
    }
    if (allTimedOut)
      throw fail('timeout', `WeChat Pay did not answer ${path} within ${config.timeoutMs} ms (tried both domains)`)
    throw fail('upstream', `WeChat Pay ${path} failed on both domains: ${lastError?.message ?? 'unknown'}`)
  }

  return {
    async call(path, fields) {
      return checkReply(await send(path, fields, asXml), config, path)
    },

    async bill({ bill_date, bill_type }) {
      if (!/^[0-9]{8}$/.test(bill_date)) throw fail('params', 'bill_date must be yyyyMMdd')
      // No tar_type: WeChat then answers the bill as plain text (§4.1). Success is the bill itself;
      // every failure is XML (SDKs tell them apart by the first character, §4.2). Anything else
      // starting with `<` (an HTML error page) counts as a transport failure, as for call().
      const answer = await send('/pay/downloadbill', { bill_date, bill_type }, (raw) => {
        const text = raw.text.replace(/^\uFEFF/, '')
        return text.trimStart().startsWith('<') ? { reply: asXml(raw) } : { status: raw.status, csv: text }
      })
      if ('csv' in answer) {
        if (answer.status !== 200) throw fail('upstream', `downloadbill answered HTTP ${answer.status}`)
        return { kind: 'bill', csv: answer.csv }
      }
      const { reply } = answer
      if (reply.return_code !== 'SUCCESS') {
        const message = reply.return_msg || 'no return_msg'
        // "No Bill Exist" (doc: "NO Bill Exist", error_code 20002): no trade that day, so no bill.
        if (/^no bill exist$/i.test(message.trim())) return { kind: 'none', message }
        throw fail('upstream', `downloadbill return_code ${reply.return_code || 'missing'}: ${message}`)
      }
      await checkReply(reply, config, '/pay/downloadbill')
      throw fail('upstream', 'downloadbill answered XML with result_code SUCCESS instead of a bill')
    },
  }
}

async function checkReply(reply: Fields, config: Config, path: string): Promise<Fields> {
  if (reply.return_code !== 'SUCCESS') {
    throw fail('upstream', `return_code ${reply.return_code || 'missing'}: ${reply.return_msg || 'no return_msg'}`)
  }
  if (!(await verify(reply, config.apiKey, config.signType))) {
    log('warn', { event: 'wechat_reply_rejected', path, reason: 'signature does not verify' })
    throw fail('upstream', `the reply to ${path} failed signature verification`)
  }
  if (reply.appid !== config.appid || reply.mch_id !== config.mchId) {
    throw fail('upstream', `the reply to ${path} is for another appid or mch_id`)
  }
  if (reply.result_code !== 'SUCCESS') {
    const errCode = /^[A-Z0-9_]{1,64}$/.test(reply.err_code ?? '') ? (reply.err_code as string) : 'UNKNOWN'
    throw new PayError({ kind: 'wechat', errCode, message: reply.err_code_des || errCode })
  }
  return reply
}

/** A fresh 32-character nonce_str. */
export function randomNonce(): string {
  return crypto.randomUUID().replaceAll('-', '')
}
