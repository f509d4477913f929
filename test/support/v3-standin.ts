/**
 * A strict APIv3 stand-in for WeChat Pay, reached over the Worker's outbound fetch (net.ts `route`):
 * it refuses a request without Accept, User-Agent or (POST) Content-Type, and one whose Authorization
 * does not verify with the merchant's public key (v3 reference §9.4); it signs its replies with the
 * "WeChat Pay" key, as the public key ID or as a platform certificate. Tests script the answers and
 * can spoil the reply signature one way at a time.
 */
import { env } from 'cloudflare:workers'
import { loadConfig } from '../../src/config'
import { aesGcmEncrypt, importPrivateKey, importPublicKey, rsaSign, rsaVerify } from '../../src/wechat/v3/crypto'
import { parseAuthorization, replyMessage, requestMessage } from '../../src/wechat/v3/sign'
import * as V from '../wechat/v3/vectors'
import type { Handler } from './net'

export const V3_HOST = 'v3.wechat.test'
export const V3_BACKUP = 'v3b.wechat.test'

/** The v3 configuration the tests use: this project's vectors (merchant 1230000109, public-key mode unless `certificates`). */
export function v3Config(overrides: Record<string, string | undefined> = {}) {
  const vars: Record<string, unknown> = {
    ...env,
    WXPAY_API_VERSION: 'v3',
    WXPAY_APPID: V.APPID,
    WXPAY_MCH_ID: V.MCHID,
    WXPAY_MCH_SERIAL: V.MCH_SERIAL,
    WXPAY_PRIVATE_KEY: V.MERCHANT_KEY,
    WXPAY_APIV3_KEY: V.APIV3_KEY,
    WXPAY_PUBLIC_KEY_ID: V.PUB_KEY_ID,
    WXPAY_PUBLIC_KEY: V.WXPAY_PUB,
    WXPAY_API_BASE: `http://${V3_HOST}`,
    WXPAY_API_BASE_BACKUP: `http://${V3_BACKUP}`,
    ...overrides,
  }
  return loadConfig(vars as unknown as Env)
}

/** How the stand-in signs a reply: properly, or spoiled in one way. */
export type Signing = 'ok' | 'none' | 'probe' | 'wrong_key' | 'stale' | 'unknown_serial' | 'tampered'

export type Answer = { status: number; json?: unknown; body?: Uint8Array; signing?: Signing }
export type Seen = { method: string; target: string; body: string; headers: Headers }

/**
 * @example const wx = standIn({ 'GET /v3/pay/transactions/out-trade-no/O1': () => ({ status: 200, json: t }) }); route(V3_HOST, wx.handler)
 */
export function standIn(
  answers: Record<string, (seen: Seen) => Answer | Promise<Answer>>,
  options: { serial?: string } = {},
) {
  const seen: Seen[] = []
  const serial = options.serial ?? V.PUB_KEY_ID
  const handler: Handler = async (request) => {
    const url = new URL(request.url)
    const target = `${url.pathname}${url.search}`
    const body = await request.text()
    const entry = { method: request.method, target, body, headers: request.headers }
    seen.push(entry)
    const refusal = await checkRequest(request, target, body)
    if (refusal)
      return signed({ status: refusal.status, json: { code: refusal.code, message: refusal.message } }, serial)
    const key = Object.keys(answers).find((pattern) => matches(pattern, request.method, url.pathname))
    if (!key)
      return signed(
        {
          status: 404,
          json: { code: 'RESOURCE_NOT_EXISTS', message: `no stand-in for ${request.method} ${url.pathname}` },
        },
        serial,
      )
    return signed(await (answers[key] as (s: Seen) => Answer | Promise<Answer>)(entry), serial)
  }
  return { handler, seen }
}

function matches(pattern: string, method: string, path: string): boolean {
  const [m, p] = pattern.split(' ')
  return m === method && (p === path || (p?.endsWith('*') === true && path.startsWith(p.slice(0, -1))))
}

async function checkRequest(request: Request, target: string, body: string) {
  const refuse = (status: number, code: string, message: string) => ({ status, code, message })
  const h = request.headers
  if (h.get('accept') !== 'application/json' || !h.get('user-agent'))
    return refuse(400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent')
  if (request.method === 'POST' && !h.get('content-type')?.startsWith('application/json'))
    return refuse(400, 'INVALID_REQUEST', 'Content-Type is not application/json')
  const auth = parseAuthorization(h.get('authorization') ?? '')
  if (!auth || auth.mchid !== V.MCHID || auth.serial !== V.MCH_SERIAL) return refuse(401, 'SIGN_ERROR', 'Authorization')
  if (Math.abs(Date.now() / 1000 - Number(auth.timestamp)) > 300) return refuse(401, 'SIGN_ERROR', 'timestamp')
  const message = requestMessage(request.method, target, auth.timestamp, auth.nonce, body)
  if (!(await rsaVerify(await importPublicKey(V.MERCHANT_PUB), message, auth.signature)))
    return refuse(401, 'SIGN_ERROR', '错误的签名,验签失败')
  return undefined
}

/** A reply signed by the "WeChat Pay" key as `serial`, or spoiled as `answer.signing` says. */
export async function signed(answer: Answer, serial: string): Promise<Response> {
  const bytes =
    answer.body ??
    (answer.json === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(answer.json)))
  const signing = answer.signing ?? 'ok'
  const headers = new Headers(answer.json === undefined ? {} : { 'content-type': 'application/json' })
  if (signing !== 'none') {
    const timestamp = String(Math.floor(Date.now() / 1000) - (signing === 'stale' ? 600 : 0))
    const nonce = crypto.randomUUID().replaceAll('-', '')
    const key = await importPrivateKey(signing === 'wrong_key' ? V.MERCHANT_KEY : V.WXPAY_KEY)
    let signature = await rsaSign(key, replyMessage(timestamp, nonce, bytes))
    if (signing === 'probe') signature = `WECHATPAY/SIGNTEST/${signature.slice(19)}`
    headers.set('wechatpay-timestamp', timestamp)
    headers.set('wechatpay-nonce', signing === 'tampered' ? `${nonce}x` : nonce)
    headers.set(
      'wechatpay-serial',
      signing === 'unknown_serial' ? 'PUB_KEY_ID_0000000000000000000000000000000002' : serial,
    )
    headers.set('wechatpay-signature', signature)
    headers.set('wechatpay-signature-type', 'WECHATPAY2-SHA256-RSA2048')
  }
  return new Response(answer.status === 204 ? null : bytes, { status: answer.status, headers })
}

/** A notification as WeChat sends it: `resource` sealed under `apiV3Key`, the envelope signed like a reply. */
export async function notification(
  plain: Record<string, unknown>,
  options: {
    event_type?: string
    apiV3Key?: string
    signing?: Signing
    serial?: string
    associated_data?: string
    /** Changes the sealed resource before the envelope is signed (a flipped bit). */
    spoil?: (ciphertext: string) => string
  } = {},
) {
  const event = options.event_type ?? 'TRANSACTION.SUCCESS'
  const associated = options.associated_data ?? (event.startsWith('REFUND') ? 'refund' : 'transaction')
  const nonce = 'n0nce0123456'
  const sealed = await aesGcmEncrypt(options.apiV3Key ?? V.APIV3_KEY, nonce, associated, JSON.stringify(plain))
  const ciphertext = options.spoil ? options.spoil(sealed) : sealed
  const envelope = {
    id: `EV-${crypto.randomUUID()}`,
    create_time: '2026-01-01T08:00:06+08:00',
    resource_type: 'encrypt-resource',
    event_type: event,
    summary: '支付成功',
    resource: {
      original_type: associated,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      associated_data: associated,
      nonce,
    },
  }
  const response = await signed(
    { status: 200, json: envelope, signing: options.signing ?? 'ok' },
    options.serial ?? V.PUB_KEY_ID,
  )
  return { headers: response.headers, body: new Uint8Array(await response.arrayBuffer()), envelope }
}
