/**
 * @module
 * The OpenAPI route table: one entry per route under /v1/pay — the request schema the route
 * validates with (routes/schemas.ts), the schema of its reply's `data`, the failures it can answer,
 * and an example. A new route is documented by adding one entry; document.ts does the rest.
 */
import * as z from 'zod/mini'
import type { FailureKind } from '../errors'
import { ParamsInput, QueryInput, UnifiedInput } from '../routes/schemas'

export type RouteDoc = {
  path: `/v1/pay/${string}`
  summary: string
  description: string
  /** Form (or JSON) fields behind the bearer token, or WeChat's signed XML (no token). */
  request: { fields: z.ZodMiniType; example: Record<string, string> } | { xml: string; example: string }
  /** The reply's `data` (JSON routes), with an example. */
  reply?: { data: z.ZodMiniType; example: object }
  /** The service's own failures, besides those every JSON route has (see document.ts). */
  failures: readonly FailureKind[]
  /** WeChat err_codes the route passes on with their own status (errors.ts). */
  wechatCodes: readonly string[]
}

const fen = z.int().check(z.minimum(0))
const text = z.string()
const SIGN_TYPE = z.enum(['MD5', 'HMAC-SHA256'])
const TRADE_STATE = z.enum(['SUCCESS', 'REFUND', 'NOTPAY', 'CLOSED', 'REVOKED', 'USERPAYING', 'PAYERROR', 'ACCEPT'])
const coupons = z.optional(z.array(z.object({ type: z.optional(text), id: z.optional(text), fee: z.optional(fen) })))

const order = {
  body: 'Demo shop-T-shirt',
  out_trade_no: 'demo-1795772204',
  total_fee: '101',
  spbill_create_ip: '14.23.150.211',
  notify_url: 'https://shop.example.com/paid',
}
const PREPAY_ID = 'wx20261127173645a1b2c3d4e5f6a7b8c9d0'

/** What a shop receives at its notify_url for a payment (the relay's `data`). */
export const PaymentData = z.object({
  out_trade_no: text,
  transaction_id: text,
  trade_state: z.literal('SUCCESS'),
  total_fee: fen,
  cash_fee: fen,
  fee_type: text,
  time_end: text,
  openid: text,
  trade_type: text,
  bank_type: text,
  attach: z.optional(text),
  coupons,
})

/** The relay's event types and the schema of each one's `data`. */
export const RELAY_EVENTS = {
  payment: PaymentData,
  refund: z.looseObject({ out_trade_no: text }),
} as const

export const ROUTES: readonly RouteDoc[] = [
  {
    path: '/v1/pay/params',
    summary: 'JSAPI pay parameters for getBrandWCPayRequest',
    description:
      "Places a JSAPI order and returns what the H5 page hands to `WeixinJSBridge.invoke('getBrandWCPayRequest', data, callback)` (a mini program passes the same, minus appId, to `wx.requestPayment`). The same order placed again while its prepay_id is valid is answered from the record.",
    request: { fields: ParamsInput, example: { ...order, openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } },
    reply: {
      data: z.object({
        appId: text,
        timeStamp: z.string().check(z.regex(/^[0-9]+$/)),
        nonceStr: text,
        package: z.string().check(z.regex(/^prepay_id=/)),
        signType: SIGN_TYPE,
        paySign: z.string().check(z.regex(/^[0-9A-F]{32}([0-9A-F]{32})?$/)),
      }),
      example: {
        appId: 'wxd930ea5d5a258f4f',
        timeStamp: '1795772204',
        nonceStr: 'Jq3cN8kXw2PzT5vLbR7yH1mDa9sF4uGe',
        package: `prepay_id=${PREPAY_ID}`,
        signType: 'HMAC-SHA256',
        paySign: '2B4F9E6C1D8A7F3E5C0B9A8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F',
      },
    },
    failures: ['upstream', 'timeout'],
    wechatCodes: ['OUT_TRADE_NO_USED', 'ORDERPAID', 'ORDERCLOSED', 'INVALID_REQUEST', 'SYSTEMERROR'],
  },
  {
    path: '/v1/pay/unified',
    summary: 'A unified order of any trade type',
    description:
      'JSAPI needs openid, MWEB needs scene_info (h5_info JSON); NATIVE returns code_url (the QR code), MWEB mweb_url, APP the signed parameters for the WeChat SDK.',
    request: { fields: UnifiedInput, example: { ...order, trade_type: 'NATIVE' } },
    reply: {
      data: z.object({
        trade_type: z.enum(['JSAPI', 'NATIVE', 'APP', 'MWEB']),
        prepay_id: text,
        code_url: z.optional(text),
        mweb_url: z.optional(text),
        app: z.optional(
          z.object({
            appid: text,
            partnerid: text,
            prepayid: text,
            package: z.literal('Sign=WXPay'),
            noncestr: text,
            timestamp: text,
            sign: text,
          }),
        ),
      }),
      example: { trade_type: 'NATIVE', prepay_id: PREPAY_ID, code_url: 'weixin://wxpay/bizpayurl?pr=Q6pK2mXa9' },
    },
    failures: ['upstream', 'timeout'],
    wechatCodes: ['OUT_TRADE_NO_USED', 'ORDERPAID', 'ORDERCLOSED', 'INVALID_REQUEST', 'SYSTEMERROR'],
  },
  {
    path: '/v1/pay/queryOrder',
    summary: 'The order as WeChat reports it',
    description:
      "WeChat's field names without the protocol fields; amounts are integers of fen; coupon_*_$n become coupons. The order record moves forward with what WeChat reports.",
    request: { fields: QueryInput, example: { out_trade_no: order.out_trade_no } },
    reply: {
      data: z.looseObject({ out_trade_no: text, trade_state: TRADE_STATE, total_fee: z.optional(fen), coupons }),
      example: {
        out_trade_no: order.out_trade_no,
        trade_state: 'SUCCESS',
        total_fee: 101,
        cash_fee: 101,
        transaction_id: '4200000405202611270093844790',
        time_end: '20261127173645',
      },
    },
    failures: ['upstream', 'timeout'],
    wechatCodes: ['ORDERNOTEXIST', 'SYSTEMERROR'],
  },
  {
    path: '/v1/pay/closeOrder',
    summary: 'Close an unpaid order',
    description:
      'WeChat closes by out_trade_no only (transaction_id is accepted and not sent). A paid order is refused.',
    request: { fields: QueryInput, example: { out_trade_no: order.out_trade_no } },
    reply: {
      data: z.object({ out_trade_no: text, trade_state: z.literal('CLOSED') }),
      example: { out_trade_no: order.out_trade_no, trade_state: 'CLOSED' },
    },
    failures: ['upstream', 'timeout'],
    wechatCodes: ['ORDERPAID', 'ORDERCLOSED', 'ORDERNOTEXIST', 'SYSTEMERROR'],
  },
  {
    path: '/v1/pay/notify',
    summary: "WeChat's payment notification (支付结果通知)",
    description:
      'Where WeChat POSTs signed v2 XML: the flat <xml> of reference §6.1, at most 16 KB. No bearer token: the signature (sign, MD5 or HMAC-SHA256 with the APIv2 key) is the authentication. The service verifies, reconciles total_fee with the order, relays the payment to the shop (see the `relay` webhook) and answers SUCCESS only once the shop has it; otherwise FAIL, and WeChat retries.',
    request: {
      xml: 'WeChat Pay v2 signed XML (text/xml), fields as in 支付结果通知',
      example:
        '<xml><return_code><![CDATA[SUCCESS]]></return_code><appid><![CDATA[wxd930ea5d5a258f4f]]></appid><mch_id>10000100</mch_id><nonce_str>5K8264ILTKCH16CQ2502SI8ZNMTM67VS</nonce_str><result_code>SUCCESS</result_code><openid>oUpF8uMuAJO_M2pxb1Q9zNjWeS6o</openid><is_subscribe>N</is_subscribe><trade_type>JSAPI</trade_type><bank_type>CFT</bank_type><total_fee>101</total_fee><cash_fee>101</cash_fee><fee_type>CNY</fee_type><transaction_id>4200000405202611270093844790</transaction_id><out_trade_no>demo-1795772204</out_trade_no><time_end>20261127173645</time_end><sign>…</sign></xml>',
    },
    failures: [],
    wechatCodes: [],
  },
]
