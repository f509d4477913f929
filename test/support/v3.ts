/**
 * Talking to the v3 sandbox as a merchant does: each request signed by hand with the merchant's
 * private key (v3 reference §3: the five-line string, RSASSA-PKCS1-v1_5/SHA-256, the Authorization
 * header), every reply checked against the "WeChat Pay" public key. Tests override any part to
 * see the sandbox refuse it.
 */
import { exports } from 'cloudflare:workers'
import { beforeAll } from 'vitest'
import { fromBase64, toBase64 } from '../../src/crypto'
import { aesGcmDecrypt } from '../../src/wechat/v3/crypto'
import { MERCHANT_KEY, WXPAY_PUB } from '../wechat/v3/vectors'
import { TEST_BINDINGS } from './bindings'
import { route } from './net'
import { APIV3_KEY, MCH_SERIAL, PUBLIC_KEY_ID } from './v3-keys'

export const SANDBOX_V3 = 'http://service.test/sandbox'
export const MCH_ID = TEST_BINDINGS.WXPAY_MCH_ID
export const APPID = TEST_BINDINGS.WXPAY_APPID

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const
const encoder = new TextEncoder()

function der(pem: string): Uint8Array {
  return fromBase64(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')) as Uint8Array
}

/** The merchant's signing key (or another private key PEM, to sign as someone else). */
export function signingKey(pem: string = MERCHANT_KEY): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', der(pem), RSA, false, ['sign'])
}

/** A public key PEM as a verifying key. */
export function verifyingKey(pem: string = WXPAY_PUB): Promise<CryptoKey> {
  return crypto.subtle.importKey('spki', der(pem), RSA, false, ['verify'])
}

export type CallOptions = {
  /** A JSON body (POST), serialised once: those bytes are signed and sent. */
  json?: unknown
  /** A raw body instead of `json`. */
  body?: string
  /** Signing key PEM (default: the merchant's). */
  key?: string
  mchid?: string
  serial?: string
  /** Unix seconds (default: now). */
  timestamp?: number
  /** What is signed as the URL line, when it should differ from what is sent. */
  signedTarget?: string
  /** Wechatpay-Serial (default: the public key ID; null: none). */
  wechatpaySerial?: string | null
  /** Header overrides; null removes one. */
  headers?: Record<string, string | null>
  /** Replaces the signature after signing (e.g. a probe). */
  signature?: string
  /** Sends this body instead of the signed one (a body changed in transit). */
  sendInstead?: string
}

/** The reply as a test reads it. */
export type V3Reply = {
  status: number
  headers: Headers
  bytes: Uint8Array
  text: string
  json: Record<string, unknown>
}

/** Sends one signed request to the sandbox; `target` is the path and query below /sandbox (`/v3/…`). */
export async function call(method: 'GET' | 'POST', target: string, options: CallOptions = {}): Promise<V3Reply> {
  const body = options.body ?? (options.json === undefined ? '' : JSON.stringify(options.json))
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
  const nonce = crypto.randomUUID().replaceAll('-', '').toUpperCase()
  const signed = `${method}\n${options.signedTarget ?? target}\n${timestamp}\n${nonce}\n${body}\n`
  const key = await signingKey(options.key)
  const signature =
    options.signature ?? toBase64(new Uint8Array(await crypto.subtle.sign(RSA, key, encoder.encode(signed))))
  const mchid = options.mchid ?? MCH_ID
  const serial = options.serial ?? MCH_SERIAL
  const headers: Record<string, string> = {
    authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${serial}"`,
    accept: 'application/json',
    'user-agent': 'wxpayserver-tests/1.0',
    ...(method === 'POST' && { 'content-type': 'application/json' }),
  }
  const wechatpaySerial = options.wechatpaySerial === undefined ? PUBLIC_KEY_ID : options.wechatpaySerial
  if (wechatpaySerial !== null) headers['wechatpay-serial'] = wechatpaySerial
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) delete headers[name]
    else headers[name] = value
  }
  const response = await exports.default.fetch(
    new Request(`${SANDBOX_V3}${target}`, {
      method,
      headers,
      ...(method === 'POST' && { body: options.sendInstead ?? body }),
    }),
  )
  const bytes = new Uint8Array(await response.arrayBuffer())
  const text = new TextDecoder().decode(bytes)
  let json: Record<string, unknown> = {}
  try {
    json = text ? JSON.parse(text) : {}
  } catch {
    json = {}
  }
  return { status: response.status, headers: response.headers, bytes, text, json }
}

/** Whether the reply's Wechatpay-Signature verifies over `timestamp\nnonce\nbody\n` with `key` (§4.1; default: the WeChat Pay public key). */
export async function signedBy(reply: { headers: Headers; text: string }, key?: CryptoKey): Promise<boolean> {
  const timestamp = reply.headers.get('wechatpay-timestamp')
  const nonce = reply.headers.get('wechatpay-nonce')
  const signature = fromBase64(reply.headers.get('wechatpay-signature') ?? '')
  if (!timestamp || !nonce || !signature) return false
  const message = encoder.encode(`${timestamp}\n${nonce}\n${reply.text}\n`)
  return crypto.subtle.verify(RSA, key ?? (await verifyingKey()), signature, message)
}

/**
 * Loads the sandbox and imports its keys before a file's first test (a hook has a longer timeout
 * than a test, and the first request of a cold isolate is slow on a busy machine).
 */
export function warmUp(): void {
  beforeAll(async () => {
    await call('GET', '/v3/certificates')
  }, 30_000)
}

let counter = 0
/** A fresh out_trade_no (6–32 characters): KV state is shared by the tests of one file. */
export function tradeNo(prefix = 'V3'): string {
  counter += 1
  return `${prefix}${Date.now().toString(36)}${counter}${crypto.randomUUID().slice(0, 6)}`
}

/** A valid JSAPI order body; override what a test is about. */
export function jsapiBody(overrides: Record<string, unknown> = {}): Record<string, unknown> & { out_trade_no: string } {
  return {
    appid: APPID,
    mchid: MCH_ID,
    description: '测试商店-商品',
    out_trade_no: tradeNo(),
    notify_url: 'https://shop.test/v3/notify',
    amount: { total: 100, currency: 'CNY' },
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    ...overrides,
  } as Record<string, unknown> & { out_trade_no: string }
}

/** Calls a JSON developer route (`/pay`, `/refund`, `/orders/…`). */
export async function dev(path: string, body?: Record<string, unknown>) {
  const init: RequestInit =
    body === undefined
      ? { method: 'GET' }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  const response = await exports.default.fetch(new Request(`${SANDBOX_V3}${path}`, init))
  return { status: response.status, body: (await response.json()) as { data: Record<string, unknown> } }
}

/** A notification as the stand-in shop received it. */
export type Received = { headers: Headers; text: string; json: Record<string, unknown> }

/** Routes shop.test to `answer` (by attempt number) and records every delivery. */
export function shop(answer: (n: number) => Response = () => new Response(null, { status: 204 })): Received[] {
  const received: Received[] = []
  route('shop.test', async (request) => {
    const text = await request.text()
    received.push({ headers: request.headers, text, json: JSON.parse(text) })
    return answer(received.length)
  })
  return received
}

/** The decrypted resource of a notification. */
export async function opened(notification: Received, key = APIV3_KEY): Promise<Record<string, unknown>> {
  const resource = notification.json.resource as { nonce: string; associated_data: string; ciphertext: string }
  return JSON.parse(new TextDecoder().decode(await aesGcmDecrypt(key, resource)))
}

/** Polls the developer view of an order until `done` holds (retries run after /pay answers). */
export async function waitFor(no: string, done: (order: Record<string, unknown>) => boolean) {
  let order = (await dev(`/orders/${no}`)).body.data
  for (let i = 0; i < 60 && !done(order); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    order = (await dev(`/orders/${no}`)).body.data
  }
  return order
}
