/**
 * @module
 * One APIv3 exchange (v3 reference §3, §4, §7.3): sign the request, send it with the headers a
 * Worker's fetch leaves out, fall back to the backup domain on a transport failure or a 5xx, and
 * verify a 2xx reply before anything in it is read. An unsigned 2xx is a forgery; an error reply
 * that carries a signature must verify too (one without is read only for its code).
 */
import type { Config, V3Config } from '../../config'
import { fail } from '../../errors'
import { merchantKey } from './crypto'
import { replyError, type Subject } from './errors'
import { type KeyRing, signRequest, verifySigned } from './sign'

export type HttpOptions = {
  config: Config & { v3: V3Config }
  fetch: typeof fetch
  /** Milliseconds since the epoch. */
  now: () => number
  nonce: () => string
  /** The keys replies are verified with; set once the key ring exists (it downloads through this transport). */
  keys: () => KeyRing
}

/** A reply below HTTP 500: its status, headers and raw body, verified when `verified`. */
export type Reply = { status: number; headers: Headers; body: Uint8Array; text: string }

export type Exchange = {
  method: 'GET' | 'POST'
  /** Path and query exactly as sent and signed, e.g. `/v3/pay/transactions/out-trade-no/O1?mchid=1230000109`. */
  target: string
  /** A JSON body (POST); serialised once, and those bytes are both signed and sent. */
  json?: unknown
  /** `'none'` for the bill file (WeChat does not sign it, §4.3); `'deferred'` when the caller verifies (certificates). */
  verify?: 'reply' | 'none' | 'deferred'
  /** Only these origins; defaults to the main and the backup API base. */
  bases?: string[]
  /** What RESOURCE_NOT_EXISTS would be about (errors.ts). */
  subject?: Subject
}

function errorCode(text: string): string | undefined {
  try {
    const { code } = JSON.parse(text) as { code?: unknown }
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

class TransportError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
    /** A 5xx reply's status and body: its code (SYSTEM_ERROR…) is what to report once both domains failed. */
    readonly reply?: { status: number; text: string },
  ) {
    super(message)
  }
}

const USER_AGENT = 'wxpayserver/0.1 (Cloudflare Workers)'

/** @example const reply = await createHttp(options).send({ method: 'GET', target: '/v3/certificates' }) */
export function createHttp(options: HttpOptions) {
  const { config, now, nonce } = options
  const { v3 } = config

  async function once(base: string, exchange: Exchange): Promise<Reply> {
    const body = exchange.json === undefined ? '' : JSON.stringify(exchange.json)
    // Signed per attempt: a fresh timestamp and nonce for the backup domain too.
    const authorization = await signRequest(await merchantKey(v3.privateKey), {
      mchid: config.mchId,
      serial: v3.mchSerial,
      method: exchange.method,
      target: exchange.target,
      timestamp: String(Math.floor(now() / 1000)),
      nonce: nonce(),
      body,
    })
    const headers: Record<string, string> = {
      authorization,
      accept: 'application/json',
      'user-agent': USER_AGENT,
      ...(exchange.method === 'POST' && { 'content-type': 'application/json' }),
      // Public-key mode: names the key WeChat is to sign the reply with (§1.3).
      ...(v3.publicKey && { 'wechatpay-serial': v3.publicKey.id }),
    }
    let response: Response
    try {
      response = await options.fetch(`${base}${exchange.target}`, {
        method: exchange.method,
        headers,
        ...(exchange.method === 'POST' && { body }),
        signal: AbortSignal.timeout(config.timeoutMs),
      })
      const bytes = new Uint8Array(await response.arrayBuffer())
      const text = new TextDecoder().decode(bytes)
      if (response.status >= 500)
        throw new TransportError(`HTTP ${response.status}`, false, { status: response.status, text })
      return { status: response.status, headers: response.headers, body: bytes, text }
    } catch (err) {
      if (err instanceof TransportError) throw err
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new TransportError(timedOut ? `no reply within ${config.timeoutMs} ms` : 'network error', timedOut)
    }
  }

  async function verified(reply: Reply, exchange: Exchange): Promise<Reply> {
    const mode = exchange.verify ?? 'reply'
    if (mode !== 'reply') return reply
    const signed = reply.headers.has('wechatpay-signature')
    const success = reply.status >= 200 && reply.status < 300
    if (!success && !signed) return reply
    const verdict = await verifySigned(reply.headers, reply.body, { keys: options.keys(), now: now() })
    if (!verdict.ok) {
      log({ event: 'wechat_reply_rejected', path: pathOf(exchange.target), reason: verdict.reason })
      throw fail(
        'upstream',
        `the reply to ${pathOf(exchange.target)} failed signature verification (${verdict.reason})`,
      )
    }
    return reply
  }

  return {
    /** Sends to the main domain, then the backup on a transport failure or 5xx; resolves with the first reply below 500. */
    async send(exchange: Exchange): Promise<Reply> {
      const bases = exchange.bases ?? [config.apiBase, config.apiBaseBackup]
      let lastError: TransportError | undefined
      let allTimedOut = true
      for (const base of bases) {
        let reply: Reply
        try {
          reply = await once(base, exchange)
        } catch (err) {
          if (!(err instanceof TransportError)) throw err
          lastError = err
          allTimedOut &&= err.timedOut
          log({ event: 'wechat_transport_failure', path: pathOf(exchange.target), base, reason: err.message })
          continue
        }
        return verified(reply, exchange)
      }
      const path = pathOf(exchange.target)
      // WeChat answered 5xx with its own code (SYSTEM_ERROR: "retry with the same parameters", §7.2).
      const code = lastError?.reply && errorCode(lastError.reply.text)
      if (lastError?.reply && code)
        throw replyError(lastError.reply.status, lastError.reply.text, exchange.subject ?? 'order', path)
      if (allTimedOut)
        throw fail('timeout', `WeChat Pay did not answer ${path} within ${config.timeoutMs} ms (tried both domains)`)
      throw fail('upstream', `WeChat Pay ${path} failed on both domains: ${lastError?.message ?? 'unknown'}`)
    },
  }
}

export type Http = ReturnType<typeof createHttp>

/** The path without its query (tokens and ids in queries stay out of logs). */
export function pathOf(target: string): string {
  return target.split('?')[0] as string
}

function log(entry: Record<string, string>): void {
  console.warn(JSON.stringify(entry))
}
