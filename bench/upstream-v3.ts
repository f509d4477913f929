/**
 * @module
 * WeChat Pay API v3 answered inside the bench Worker's isolate (the v3 run of part 2): the JSAPI
 * order reply and the TRANSACTION.SUCCESS notifications are signed (and sealed) ahead of the timed
 * requests with the sandbox's test-only "WeChat Pay" key (dev-v3.env), so a timed request holds the
 * service's own RSA and AES-GCM work only. Signed replies are renewed before they near v3's
 * 5-minute window.
 */
import { aesGcmEncrypt, importPrivateKey, rsaSign } from '../src/wechat/v3/crypto'
import { replyMessage } from '../src/wechat/v3/sign'

export type V3Merchant = {
  appid: string
  mchId: string
  apiV3Key: string
  /** The sandbox's private key (SANDBOX_V3_PRIVATE_KEY) and the public key ID the merchant trusts. */
  wechatKey: string
  publicKeyId: string
}

export const V3_PREPAY_ID = 'wx201411101639507cbf6ffd8b0779950874'
const RENEW_MS = 60_000

let order: { at: number; body: Uint8Array; headers: Record<string, string> } | undefined

/** The signed reply to `POST /v3/pay/transactions/jsapi`, renewed once a minute. */
export async function prepareV3Reply(merchant: V3Merchant): Promise<void> {
  if (order && Date.now() - order.at < RENEW_MS) return
  const body = new TextEncoder().encode(JSON.stringify({ prepay_id: V3_PREPAY_ID }))
  order = { at: Date.now(), body, headers: await signatureHeaders(merchant, body) }
}

/** The v3 reply for `path`, or undefined when the bench has none. */
export function v3Reply(path: string): Response | undefined {
  if (path !== '/v3/pay/transactions/jsapi' || !order) return undefined
  return new Response(order.body, { headers: { 'content-type': 'application/json', ...order.headers } })
}

/** A TRANSACTION.SUCCESS notification for `outTradeNo`: headers and raw body, signed now. */
export async function v3Notification(
  merchant: V3Merchant,
  outTradeNo: string,
  totalFee: number,
): Promise<{ headers: Record<string, string>; body: Uint8Array }> {
  const transaction = {
    appid: merchant.appid,
    mchid: merchant.mchId,
    out_trade_no: outTradeNo,
    transaction_id: `42000${outTradeNo.replace(/[^0-9A-Za-z]/g, '')}`.slice(0, 32),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2026-11-27T13:15:40+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: totalFee, payer_total: totalFee, currency: 'CNY', payer_currency: 'CNY' },
  }
  const nonce = crypto.randomUUID().replaceAll('-', '').slice(0, 12)
  const ciphertext = await aesGcmEncrypt(merchant.apiV3Key, nonce, 'transaction', JSON.stringify(transaction))
  const envelope = {
    id: `EV-${outTradeNo}`,
    create_time: '2026-11-27T13:15:41+08:00',
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: {
      original_type: 'transaction',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      associated_data: 'transaction',
      nonce,
    },
  }
  const body = new TextEncoder().encode(JSON.stringify(envelope))
  return { headers: { 'content-type': 'application/json', ...(await signatureHeaders(merchant, body)) }, body }
}

let key: Promise<CryptoKey> | undefined

async function signatureHeaders(merchant: V3Merchant, body: Uint8Array): Promise<Record<string, string>> {
  key ??= importPrivateKey(merchant.wechatKey)
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = crypto.randomUUID().replaceAll('-', '')
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': merchant.publicKeyId,
    'wechatpay-signature': await rsaSign(await key, replyMessage(timestamp, nonce, body)),
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  }
}
