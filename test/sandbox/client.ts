/**
 * Talking to the sandbox as the service does: signed v2 XML over HTTP through the Worker's entry,
 * and the JSON developer routes. Every signature here is real, made with the test merchant's key.
 */
import { exports } from 'cloudflare:workers'
import { expect } from 'vitest'
import { type SignType, sign, verify } from '../../src/wechat/sign'
import { decode, encode, type Fields } from '../../src/wechat/xml'
import { TEST_BINDINGS } from '../support/bindings'

export const KEY = TEST_BINDINGS.WXPAY_API_KEY
export const APPID = TEST_BINDINGS.WXPAY_APPID
export const MCH_ID = TEST_BINDINGS.WXPAY_MCH_ID
export const SANDBOX = 'http://service.test/sandbox'

export type WechatPath =
  | '/pay/unifiedorder'
  | '/pay/orderquery'
  | '/pay/closeorder'
  | '/secapi/pay/refund'
  | '/pay/refundquery'

/** Posts a raw body to a sandbox endpoint; returns the decoded reply and its content type. */
export async function postRaw(path: string, body: BodyInit | null, method = 'POST') {
  const response = await exports.default.fetch(new Request(`${SANDBOX}${path}`, { method, body }))
  expect(response.status).toBe(200)
  return { fields: decode(await response.text()), type: response.headers.get('content-type') }
}

/** Signs `fields` like the service's client: HMAC requests carry `sign_type`, MD5 ones may omit it. */
export async function signed(
  fields: Record<string, string>,
  options: { signType?: SignType; key?: string; declare?: boolean } = {},
): Promise<Record<string, string>> {
  const { signType = 'HMAC-SHA256', key = KEY, declare = signType === 'HMAC-SHA256' } = options
  const out = { ...fields, ...(declare ? { sign_type: signType } : {}) }
  return { ...out, sign: await sign(out, key, signType) }
}

/** Calls a v2 endpoint with signed fields; returns the decoded reply. */
export async function call(
  path: WechatPath,
  fields: Record<string, string>,
  options: { signType?: SignType; key?: string; declare?: boolean } = {},
): Promise<Fields> {
  return (await postRaw(path, encode(await signed(fields, options)))).fields
}

/** Asserts a return_code SUCCESS reply is signed with `signType` and the merchant's key, and only so. */
export async function expectSigned(reply: Fields, signType: SignType): Promise<void> {
  expect(reply.return_code).toBe('SUCCESS')
  expect(await verify(reply, KEY, signType)).toBe(true)
  expect(await verify(reply, KEY, signType === 'MD5' ? 'HMAC-SHA256' : 'MD5')).toBe(false)
}

/** Asserts a result_code FAIL reply with `errCode`, properly signed. */
export async function expectRefused(reply: Fields, errCode: string, signType: SignType = 'HMAC-SHA256') {
  await expectSigned(reply, signType)
  expect(reply).toMatchObject({ result_code: 'FAIL', err_code: errCode })
  expect(reply.err_code_des).toBeTruthy()
}

let counter = 0
/** A fresh out_trade_no: KV state is shared by the tests of one file. */
export function orderNo(prefix = 'SB'): string {
  counter += 1
  return `${prefix}${Date.now().toString(36)}${counter}${crypto.randomUUID().slice(0, 6)}`
}

/** A nonce_str as a client would make it. */
export function nonceStr(): string {
  return crypto.randomUUID().replaceAll('-', '')
}

/** A valid JSAPI unifiedorder request; override what a test is about (`undefined` drops a field). */
export function order(overrides: Record<string, string | undefined> = {}): OrderFields {
  const base: Record<string, string | undefined> = {
    appid: APPID,
    mch_id: MCH_ID,
    nonce_str: nonceStr(),
    body: '测试商店-商品',
    out_trade_no: orderNo(),
    total_fee: '100',
    spbill_create_ip: '203.0.113.7',
    notify_url: 'https://shop.test/notify',
    trade_type: 'JSAPI',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    ...overrides,
  }
  return compact(base) as OrderFields
}

/** unifiedorder fields; the ids tests use are always there unless a test drops them. */
export type OrderFields = Record<string, string> & { out_trade_no: string; notify_url: string }

/** The request envelope of orderquery / closeorder (`undefined` drops a field). */
export function lookup(ids: Record<string, string | undefined>): Record<string, string> {
  return compact({ appid: APPID, mch_id: MCH_ID, nonce_str: nonceStr(), ...ids })
}

function compact(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

/** One notification attempt as the developer routes show it. */
export type Attempt = { n: number; at: string; ok: boolean; status?: number; return_code?: string; error?: string }

/** The JSON view of a sandbox order (only what tests read is typed). */
export type OrderView = Record<string, unknown> & {
  out_trade_no: string
  trade_state: string
  transaction_id?: string
  notification: { delivered: boolean; attempts: Attempt[] }
}

/** A developer route's reply: `data` on success, `error` otherwise. */
export type DevReply = { status: number; body: { data: OrderView; error: { code: string; message: string } } }

/** Calls a JSON developer route. */
export async function dev(path: string, body?: Record<string, unknown>): Promise<DevReply> {
  const init: RequestInit =
    body === undefined
      ? { method: 'GET' }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  const response = await exports.default.fetch(new Request(`${SANDBOX}${path}`, init))
  return { status: response.status, body: (await response.json()) as DevReply['body'] }
}

/** Polls `GET /orders/:no` until `done` holds (retries run after /pay answers), at most ~2 s. */
export async function waitForOrder(outTradeNo: string, done: (order: OrderView) => boolean): Promise<OrderView> {
  let last = (await dev(`/orders/${outTradeNo}`)).body.data
  for (let i = 0; i < 40 && !done(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    last = (await dev(`/orders/${outTradeNo}`)).body.data
  }
  return last
}
