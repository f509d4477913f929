/** Calling the service as a shop's backend does: form posts with a bearer token, JSON back. */
import { createExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { scopeOf } from '../../src/auth'
import worker from '../../src/dev'
import { OPS_TOKEN, TOKEN } from './bindings'
import { SERVICE } from './net'
import { documentedReply, expectDocumented } from './openapi'

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the service answers
export type Reply = { status: number; body: any; headers: Headers }

export type PostOptions = {
  /** Default: a token of the scope the path needs (OPS_TOKEN for the ops routes, else TOKEN). */
  token?: string | null
  json?: boolean
  headers?: Record<string, string>
  /** Configuration to change for this one request (e.g. a short WXPAY_TIMEOUT_MS). */
  env?: Partial<Env>
}

export async function post(
  path: string,
  fields: Record<string, string | number>,
  options: PostOptions = {},
): Promise<Reply> {
  const { token = scopeOf(path) === 'ops' ? OPS_TOKEN : TOKEN, json = false } = options
  const headers: Record<string, string> = { ...options.headers }
  if (token !== null) headers.authorization = `Bearer ${token}`
  let body: string
  if (json) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(fields)
  } else {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString()
  }
  const request = new Request(`${SERVICE}${path}`, { method: 'POST', headers, body })
  const response = options.env
    ? await worker.fetch(request, { ...env, ...options.env }, createExecutionContext())
    : await exports.default.fetch(request)
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  const reply = { status: response.status, body: parsed, headers: response.headers }
  // Every reply a route test sees must be one the OpenAPI document describes.
  if (documentedReply(path, 200) || documentedReply(path, 400)) expectDocumented(path, reply)
  return reply
}

let counter = 0
/** A fresh out_trade_no: KV state is shared by the tests of one file. */
export function orderNo(prefix = 'T'): string {
  counter += 1
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6)}`.slice(0, 32)
}

/** A valid JSAPI order for /v1/pay/params; override what a test is about. */
export function jsapiOrder(overrides: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    body: '测试商店-商品',
    out_trade_no: orderNo(),
    total_fee: 101,
    spbill_create_ip: '14.23.150.211',
    notify_url: 'https://shop.test/paid',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    ...overrides,
  }
}

export type SandboxPayment = {
  data: { transaction_id: string; trade_state: string; notification: { delivered: boolean; attempts: unknown[] } }
}

/** The payer pays in the sandbox, which then notifies the service the way WeChat does. */
export async function sandboxPay(outTradeNo: string, extra: Record<string, string> = {}): Promise<SandboxPayment> {
  const response = await exports.default.fetch(
    new Request(`${SERVICE}/sandbox/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ out_trade_no: outTradeNo, ...extra }),
    }),
  )
  if (response.status !== 200) throw new Error(`sandbox pay answered ${response.status}: ${await response.text()}`)
  return response.json<SandboxPayment>()
}
