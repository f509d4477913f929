/**
 * @module
 * One call to WeChat Pay v2: sign, post, time out, fall back to the backup domain on a transport
 * failure, and decide in WeChat's order (协议规则): return_code, then the reply's signature (before
 * any other field is read), then result_code.
 */
import type { Config } from '../config'
import { fail, PayError } from '../errors'
import { sign, verify } from './sign'
import { decode, encode, type Fields, XmlError } from './xml'

export type WechatPath = '/pay/unifiedorder' | '/pay/orderquery' | '/pay/closeorder'

export type ClientOptions = {
  config: Config
  /** The transport; the platform's fetch unless a caller passes its own. */
  fetch?: typeof fetch
  /** A fresh nonce_str (≤ 32 characters). */
  nonce?: () => string
}

export type Client = {
  /** Sends `fields` (appid, mch_id, nonce_str, sign_type and sign are added) and returns the verified reply. */
  call(path: WechatPath, fields: Record<string, string>): Promise<Fields>
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
export function createClient({ config, fetch: transport = fetch, nonce = randomNonce }: ClientOptions): Client {
  async function attempt(base: string, path: WechatPath, body: string): Promise<Fields> {
    let response: Response
    let text: string
    try {
      response = await transport(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      })
      text = await response.text()
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new TransportError(timedOut ? `no reply within ${config.timeoutMs} ms` : 'network error', timedOut)
    }
    if (response.status >= 500) throw new TransportError(`HTTP ${response.status}`)
    try {
      const reply = decode(text)
      if (reply.return_code === undefined) throw new XmlError('no return_code')
      return reply
    } catch (err) {
      if (err instanceof XmlError) throw new TransportError(`HTTP ${response.status} reply is not WeChat Pay XML`)
      throw err
    }
  }

  return {
    async call(path, fields) {
      const request: Record<string, string> = {
        ...fields,
        appid: config.appid,
        mch_id: config.mchId,
        nonce_str: nonce(),
        sign_type: config.signType,
      }
      request.sign = await sign(request, config.apiKey, config.signType)
      const body = encode(request)

      let reply: Fields | undefined
      let lastError: TransportError | undefined
      let allTimedOut = true
      for (const base of [config.apiBase, config.apiBaseBackup]) {
        try {
          reply = await attempt(base, path, body)
          break
        } catch (err) {
          if (!(err instanceof TransportError)) throw err
          lastError = err
          allTimedOut &&= err.timedOut
          log({ event: 'wechat_transport_failure', path, base, reason: err.message })
        }
      }
      if (!reply) {
        if (allTimedOut)
          throw fail('timeout', `WeChat Pay did not answer ${path} within ${config.timeoutMs} ms (tried both domains)`)
        throw fail('upstream', `WeChat Pay ${path} failed on both domains: ${lastError?.message ?? 'unknown'}`)
      }
      return checkReply(reply, config, path)
    },
  }
}

async function checkReply(reply: Fields, config: Config, path: WechatPath): Promise<Fields> {
  if (reply.return_code !== 'SUCCESS') {
    throw fail('upstream', `return_code ${reply.return_code || 'missing'}: ${reply.return_msg || 'no return_msg'}`)
  }
  if (!(await verify(reply, config.apiKey, config.signType))) {
    log({ event: 'wechat_reply_rejected', path, reason: 'signature does not verify' })
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

function log(entry: Record<string, string>): void {
  console.warn(JSON.stringify(entry))
}
