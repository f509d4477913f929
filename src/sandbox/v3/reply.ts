/**
 * @module
 * Signed messages from the sandbox, as WeChat signs them (reference §4): `Wechatpay-Timestamp`,
 * `-Nonce`, `-Serial`, `-Signature-Type` and `-Signature` = base64 SHA256withRSA of
 * `timestamp\nnonce\nbody\n` over the exact body bytes (an empty body for 204). Every API reply is
 * signed, errors included; only the bill file is not (§4.3).
 */

import { rsaSign } from '../../wechat/v3/crypto'
import { replyMessage, SCHEME } from '../../wechat/v3/sign'
import { randomString } from '../ids'
import type { WechatError } from './protocol'
import type { Settings } from './settings'

const encoder = new TextEncoder()

/** The five Wechatpay-* headers over `body`, signed now with the sandbox's key under `serial`. */
export async function signatureHeaders(options: {
  settings: Settings
  serial: string
  body: string
  nowSeconds: number
}): Promise<Record<string, string>> {
  const { settings, serial, body, nowSeconds } = options
  const timestamp = String(nowSeconds)
  const nonce = randomString(32, '0123456789abcdef')
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Serial': serial,
    'Wechatpay-Signature-Type': SCHEME,
    'Wechatpay-Signature': await rsaSign(settings.wechatKey, replyMessage(timestamp, nonce, encoder.encode(body))),
  }
}

/** A signed reply: JSON `body` with `status`, or an empty 204 when `body` is undefined. */
export async function signedReply(options: {
  settings: Settings
  serial: string
  status: number
  body?: unknown
  nowSeconds: number
}): Promise<Response> {
  const { status, body } = options
  const text = body === undefined ? '' : JSON.stringify(body)
  const headers: Record<string, string> = {
    ...(await signatureHeaders({ ...options, body: text })),
    'Request-ID': crypto.randomUUID(),
  }
  if (body === undefined) return new Response(null, { status, headers })
  return new Response(text, { status, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } })
}

/** WeChat's error body of a refusal. */
export function errorBody(error: WechatError): Record<string, unknown> {
  return { code: error.code, message: error.message, ...(error.detail && { detail: error.detail }) }
}
