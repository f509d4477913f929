/**
 * The API version a test file runs under (vitest.config.ts runs the version-dependent files once per
 * version, the version in `env`), and what differs by version as the tests see it: the pay signs and
 * the requests WeChat receives. Everything else the tests check is the same `/v1` contract.
 */
import { env } from 'cloudflare:workers'
import { fromBase64 } from '../../src/crypto'
import { sign } from '../../src/wechat/sign'
import { MERCHANT_PUB } from '../wechat/v3/vectors'
import { verifyingKey } from './v3'
import { KEY } from './wechat'

// Not in wrangler.toml (production's default is v2), so not in the generated Env.
export const V3 = (env as unknown as Record<string, unknown>).WXPAY_API_VERSION === 'v3'

/** The sandbox path an order of `type` is placed at. */
export function placePath(type: 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB' = 'JSAPI'): string {
  const v3 = { JSAPI: 'jsapi', NATIVE: 'native', APP: 'app', MWEB: 'h5' }[type]
  return V3 ? `/sandbox/v3/pay/transactions/${v3}` : '/sandbox/pay/unifiedorder'
}

/** The path a refund is requested at. */
export const REFUND_PATH = V3 ? '/sandbox/v3/refund/domestic/refunds' : '/sandbox/secapi/pay/refund'

/**
 * Whether `signature` is the merchant's over `lines` (v3: SHA256withRSA over the lines, each ending
 * in \n, v3 reference §6.8–§6.9) or over `fields` (v2: HMAC-SHA256 with the APIv2 key).
 */
export async function signedByMerchant(
  signature: string,
  v2: { fields: Record<string, string> },
  v3: { lines: string[] },
): Promise<boolean> {
  if (!V3) return signature === (await sign(v2.fields, KEY, 'HMAC-SHA256'))
  const message = new TextEncoder().encode(v3.lines.map((line) => `${line}\n`).join(''))
  const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  const bytes = fromBase64(signature)
  return bytes !== undefined && crypto.subtle.verify(RSA, await verifyingKey(MERCHANT_PUB), bytes, message)
}
