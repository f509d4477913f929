/**
 * @module
 * One call to WeChat Pay v2: sign, post, time out, fall back to the backup domain on a transport
 * failure, and decide in WeChat's order (协议规则): return_code, then the reply's signature (before
 * any other field is read), then result_code.
 *
 * `/secapi/*` (refunds) needs the merchant's client certificate (refunds reference §1): to WeChat's
 * own domains it goes only through `certFetch`, the Workers mTLS binding `WXPAY_CERT`, and without
 * one it is refused before anything is sent. To any other base (the sandbox, a simulator) it goes
 * over plain fetch. `downloadbill` answers a gzipped CSV stream, not XML: it has its own method,
 * {@link Client.bill}.
 */
import type { Config } from '../config'
import { fail, PayError } from '../errors'
import { log } from '../log'
import { openBillAnswer } from './bill-answer'
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

/**
 * downloadbill's answer: the bill's CSV as it streams, decompressed (read it with `readBill`), or
 * WeChat's word that there is none for that day.
 */
export type BillReply = { kind: 'bill'; body: ReadableStream<Uint8Array> } | { kind: 'none'; message: string }

export type BillRequest = {
  /** The Beijing day, `yyyyMMdd`. */
  bill_date: string
  /** Only ALL is parsed by bill.ts; the others are WeChat's other formats (refunds reference §4.1). */
  bill_type: 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND'
}

export type Client = {
  /**
   * Sends `fields` (mch_id, nonce_str, sign_type and sign are added; appid too, the default one, unless
   * `fields` names one of the merchant's) and returns the verified reply, which must name the same appid.
   */
  call(path: WechatPath, fields: Record<string, string>): Promise<Fields>
  /**
   * `/pay/downloadbill`, asked for gzipped and decompressed as it streams. "No bill for that day" is
   * `{ kind: 'none' }`, not an error. The timeout covers the answer's first bytes, not the whole bill.
   */
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

  /**
   * One POST; `read` takes the response within the timeout (a stream it returns is not cut off by it)
   * and resolves with what it reads; any failure on the way is a transport failure.
   */
  async function exchange<T>(
    transport: Transport,
    url: string,
    body: string,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    const timeout = new AbortController()
    const timer = setTimeout(
      () => timeout.abort(new DOMException(`no reply within ${config.timeoutMs} ms`, 'TimeoutError')),
      config.timeoutMs,
    )
    try {
      const response = await transport(url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body,
        signal: timeout.signal,
      })
      return await read(response)
    } catch (err) {
      if (err instanceof TransportError) throw err
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new TransportError(timedOut ? `no reply within ${config.timeoutMs} ms` : 'network error', timedOut)
    } finally {
      clearTimeout(timer)
    }
  }

  /** The text of any answer below HTTP 500. */
  async function textOf(response: Response): Promise<{ status: number; text: string }> {
    const text = await response.text()
    if (response.status >= 500) throw new TransportError(`HTTP ${response.status}`)
    return { status: response.status, text }
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
  async function send<T>(path: string, fields: Record<string, string>, read: (response: Response) => Promise<T>) {
    const bases = [config.apiBase, config.apiBaseBackup]
    // Both transports are chosen before anything is sent: a refusal never follows a request.
    const transports = bases.map((base) => transportFor(base, path))
    const appid = fields.appid ?? config.appid
    // An order's appid no longer in WXPAY_APPID: the merchant unbound it, or the list lost it.
    if (!config.appids.includes(appid)) throw fail('config', `WXPAY_APPID does not list the order's appid ${appid}`)
    const request: Record<string, string> = {
      ...fields,
      appid,
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
        return await exchange(transports[i] as Transport, `${base}${path}`, body, read)
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
      const reply = await send(path, fields, async (response) => asXml(await textOf(response)))
      return checkReply(reply, config, path, fields.appid ?? config.appid)
    },

    async bill({ bill_date, bill_type }) {
      if (!/^[0-9]{8}$/.test(bill_date)) throw fail('params', 'bill_date must be yyyyMMdd')
      // Asked gzipped (§4.1), the bill is a tenth of its size on the wire; it is told apart by its
      // first bytes (bill-answer.ts), so a plain answer reads as well. Success is the bill itself;
      // every failure is XML (§4.2). Anything else starting with `<` (an HTML error page) counts as
      // a transport failure, as for call().
      const answer = await send('/pay/downloadbill', { bill_date, bill_type, tar_type: 'GZIP' }, async (response) => {
        if (response.status >= 500) {
          await response.body?.cancel()
          throw new TransportError(`HTTP ${response.status}`)
        }
        const opened = await openBillAnswer(response)
        return 'text' in opened ? { reply: asXml(opened) } : opened
      })
      if ('body' in answer) {
        if (answer.status !== 200) {
          await answer.body.cancel()
          throw fail('upstream', `downloadbill answered HTTP ${answer.status}`)
        }
        return { kind: 'bill', body: answer.body }
      }
      const { reply } = answer
      if (reply.return_code !== 'SUCCESS') {
        const message = reply.return_msg || 'no return_msg'
        // "No Bill Exist" (doc: "NO Bill Exist", error_code 20002): no trade that day, so no bill.
        if (/^no bill exist$/i.test(message.trim())) return { kind: 'none', message }
        throw fail('upstream', `downloadbill return_code ${reply.return_code || 'missing'}: ${message}`)
      }
      await checkReply(reply, config, '/pay/downloadbill', config.appid)
      throw fail('upstream', 'downloadbill answered XML with result_code SUCCESS instead of a bill')
    },
  }
}

/** `appid`: the one the request named; a reply for another (even one of the merchant's) is not an answer to it. */
async function checkReply(reply: Fields, config: Config, path: string, appid: string): Promise<Fields> {
  if (reply.return_code !== 'SUCCESS') {
    throw fail('upstream', `return_code ${reply.return_code || 'missing'}: ${reply.return_msg || 'no return_msg'}`)
  }
  if (!(await verify(reply, config.apiKey, config.signType))) {
    log('warn', { event: 'wechat_reply_rejected', path, reason: 'signature does not verify' })
    throw fail('upstream', `the reply to ${path} failed signature verification`)
  }
  if (reply.appid !== appid || reply.mch_id !== config.mchId) {
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
