/**
 * @module
 * The OpenAPI route table: one entry per route under /v1/pay — the request schema the route
 * validates with (routes/schemas.ts), the schema of its reply's `data`, the failures it can answer,
 * and an example. A new route is documented by adding one entry; document.ts does the rest.
 */
import * as z from 'zod/mini'
import type { FailureKind } from '../errors'
import {
  ParamsInput,
  QueryInput,
  ReconciliationInput,
  RedeliverInput,
  RefundInput,
  RefundQueryInput,
  UnifiedInput,
} from '../routes/schemas'

export type RouteDoc = {
  path: `/v1/pay/${string}`
  summary: string
  description: string
  /** Form (or JSON) fields behind the bearer token, or WeChat's signed XML (no token). */
  request: { fields: z.ZodMiniType; example: Record<string, string> } | { xml: string; example: string }
  /** The reply's `data` (JSON routes), with an example. */
  reply?: { data: z.ZodMiniType; example: object }
  /** A 202 reply's `data`: the work was started (or joined) and is still going. */
  accepted?: { data: z.ZodMiniType; example: object }
  /** The service's own failures, besides those every JSON route has (see document.ts). */
  failures: readonly FailureKind[]
  /** WeChat err_codes the route passes on with their own status (errors.ts). */
  wechatCodes: readonly string[]
}

const fen = z.int().check(z.minimum(0))
const text = z.string()
// RSA: the paySign of WXPAY_API_VERSION=v3 (SHA256withRSA, v3 reference §6.8).
const SIGN_TYPE = z.enum(['MD5', 'HMAC-SHA256', 'RSA'])
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

const REFUND_STATUS = z.enum(['PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE'])

/** What a shop receives at its notify_url for a refund's final state (the relay's `data`). */
export const RefundData = z.object({
  out_trade_no: text,
  out_refund_no: text,
  refund_id: text,
  transaction_id: text,
  refund_fee: fen,
  total_fee: fen,
  refund_status: z.enum(['SUCCESS', 'REFUNDCLOSE', 'CHANGE']),
  success_time: z.optional(text),
  refund_recv_accout: z.optional(text),
})

/** The relay's event types and the schema of each one's `data`. */
export const RELAY_EVENTS = {
  payment: PaymentData,
  refund: RefundData,
} as const

const refundExample = {
  out_trade_no: order.out_trade_no,
  out_refund_no: `${order.out_trade_no}-r1`,
  refund_id: '50300504520261130947316681267',
}

const Discrepancy = z.object({
  kind: z.enum([
    'unknown_order',
    'payment_not_recorded',
    'amount_mismatch',
    'transaction_mismatch',
    'missing_from_bill',
    'refund_not_recorded',
    'refund_amount_mismatch',
    'unchecked',
  ]),
  out_trade_no: text,
  out_refund_no: z.optional(text),
  bill: z.nullable(z.record(z.string(), z.union([z.string(), z.number()]))),
  ledger: z.nullable(z.record(z.string(), z.union([z.string(), z.number()]))),
  reason: z.optional(text),
})

export const ROUTES: readonly RouteDoc[] = [
  {
    path: '/v1/pay/params',
    summary: 'JSAPI pay parameters for getBrandWCPayRequest',
    description:
      "Places a JSAPI order and returns what the H5 page hands to `WeixinJSBridge.invoke('getBrandWCPayRequest', data, callback)` (a mini program passes the same, minus appId, to `wx.requestPayment`). `appId` is the order's: the request's `appid`, one of WXPAY_APPID, or the first. The same order placed again while its prepay_id is valid is answered from the record. Under WXPAY_API_VERSION=v3, signType is `RSA` and paySign the base64 SHA256withRSA signature.",
    request: { fields: ParamsInput, example: { ...order, openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } },
    reply: {
      data: z.object({
        appId: text,
        timeStamp: z.string().check(z.regex(/^[0-9]+$/)),
        nonceStr: text,
        package: z.string().check(z.regex(/^prepay_id=/)),
        signType: SIGN_TYPE,
        paySign: z.string().check(z.regex(/^([0-9A-F]{32}([0-9A-F]{32})?|[A-Za-z0-9+/]{342}==)$/)),
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
      'JSAPI needs openid, MWEB needs scene_info (h5_info JSON); NATIVE returns code_url (the QR code), MWEB mweb_url, APP the signed parameters for the WeChat SDK (RSA-signed under WXPAY_API_VERSION=v3, where NATIVE has no prepay_id).',
    request: { fields: UnifiedInput, example: { ...order, trade_type: 'NATIVE' } },
    reply: {
      data: z.object({
        trade_type: z.enum(['JSAPI', 'NATIVE', 'APP', 'MWEB']),
        // Absent for NATIVE under WXPAY_API_VERSION=v3, which answers code_url alone.
        prepay_id: z.optional(text),
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
  {
    path: '/v1/pay/refund',
    summary: 'Refund a paid order (申请退款), once per out_refund_no',
    description:
      "WeChat's /secapi/pay/refund with the order's total_fee and the service's own refund notify_url. The order's ledger holds every refund not closed, so refunds never add up past total_fee, concurrently too. The same out_refund_no with the same fields is the same refund; with other fields it is 409 OUT_REFUND_NO_USED before WeChat. A refund whose answer was lost, or that WeChat says to retry, stays held: retry with the same out_refund_no. The result comes later as a `refund` relay.",
    request: {
      fields: RefundInput,
      example: { out_trade_no: order.out_trade_no, out_refund_no: refundExample.out_refund_no, refund_fee: '30' },
    },
    reply: {
      data: z.object({
        out_trade_no: text,
        out_refund_no: text,
        refund_id: text,
        refund_fee: fen,
        total_fee: fen,
        refund_status: z.enum(['PROCESSING', 'SUCCESS', 'REFUNDCLOSE', 'CHANGE']),
      }),
      example: { ...refundExample, refund_fee: 30, total_fee: 101, refund_status: 'PROCESSING' },
    },
    failures: ['noRecord', 'notPaid', 'refundTooLarge', 'upstream', 'timeout'],
    wechatCodes: [
      'OUT_REFUND_NO_USED',
      'REFUND_FEE_MISMATCH',
      'INVALID_REQUEST',
      'SYSTEMERROR',
      'BIZERR_NEED_RETRY',
      'FREQUENCY_LIMITED',
      'ORDER_NOT_READY',
      'INVALID_REQ_TOO_MUCH',
    ],
  },
  {
    path: '/v1/pay/refundQuery',
    summary: "A refund's (or an order's refunds') state as WeChat reports it",
    description:
      "refundquery by out_refund_no (that refund) or out_trade_no (all of the order's), the indexed _$n fields gathered into `refunds`, amounts as integers of fen. The ledger moves forward with what it learns, and a refund reaching a final state is relayed.",
    request: { fields: RefundQueryInput, example: { out_refund_no: refundExample.out_refund_no } },
    reply: {
      data: z.object({
        out_trade_no: text,
        transaction_id: text,
        total_fee: fen,
        refunds: z.array(
          z.object({
            out_refund_no: text,
            refund_id: text,
            refund_fee: fen,
            refund_status: REFUND_STATUS,
            success_time: z.optional(text),
            refund_recv_accout: z.optional(text),
          }),
        ),
      }),
      example: {
        out_trade_no: order.out_trade_no,
        transaction_id: '4200000405202611270093844790',
        total_fee: 101,
        refunds: [
          {
            out_refund_no: refundExample.out_refund_no,
            refund_id: refundExample.refund_id,
            refund_fee: 30,
            refund_status: 'SUCCESS',
            success_time: '2026-11-29 12:00:00',
            refund_recv_accout: '支付用户零钱',
          },
        ],
      },
    },
    failures: ['upstream', 'timeout'],
    wechatCodes: ['REFUNDNOTEXIST', 'SYSTEMERROR'],
  },
  {
    path: '/v1/pay/notify/refund',
    summary: "WeChat's refund notification (退款结果通知)",
    description:
      "Where WeChat POSTs a refund's result: unsigned XML whose req_info is AES-256-ECB encrypted with the lower-case hex MD5 of the APIv2 key. The service decrypts it strictly, checks appid and mch_id, confirms the state with refundquery (a signed reply) before recording anything, relays it (see the `relay` webhook) and answers SUCCESS only once the shop has it; otherwise FAIL, and WeChat retries.",
    request: {
      xml: 'WeChat Pay v2 XML (text/xml): return_code, appid, mch_id, nonce_str, req_info (base64 of AES-256-ECB)',
      example:
        '<xml><return_code>SUCCESS</return_code><appid><![CDATA[wxd930ea5d5a258f4f]]></appid><mch_id><![CDATA[10000100]]></mch_id><nonce_str><![CDATA[TeqClE3i0mvn3DrK]]></nonce_str><req_info><![CDATA[T87GAHG17TGAHG1TGHAHAHA1Y1CIOA9UGJH1GAHV871HAGAGQYQQPOOJMXNBCXBVNMNMAJAA==]]></req_info></xml>',
    },
    failures: [],
    wechatCodes: [],
  },
  {
    path: '/v1/pay/redeliver',
    summary: 'Relay a payment (or a refund) to the shop again, now',
    description:
      "Sends the payment relay (or, with out_refund_no, that refund's final state) again, even if it was delivered before. A relay already in flight is joined, never doubled. Not being delivered is an answer, not an error.",
    request: { fields: RedeliverInput, example: { out_trade_no: order.out_trade_no } },
    reply: {
      data: z.union([
        z.object({ delivered: z.literal(true), status: z.int() }),
        z.object({ delivered: z.literal(false), reason: text }),
      ]),
      example: { delivered: true, status: 200 },
    },
    failures: ['noRecord', 'notPaid'],
    wechatCodes: ['REFUNDNOTEXIST'],
  },
  {
    path: '/v1/pay/reconciliation',
    summary: 'The daily bill reconciled with the ledgers',
    description:
      "The report of one Beijing day (kept as reconciliation:<yyyyMMdd>, made by the daily Cron Trigger's Workflow run), or — if there is none yet, or with refresh=1 — the run that makes it: started, or joined if one is going, and waited for up to RECONCILIATION_WAIT_MS (10 s); still running, the answer is 202 with its status and progress, and the same call later answers the report. WeChat's ALL bill is compared with the day's index keys; only the differences reach a ledger: a payment or refund the bill shows that a ledger lacks is confirmed with orderquery/refundquery and recorded and relayed (`fixed`); an order whose ledger fails is `unchecked` with its reason. A day without a bill is `bill: none`, not an error.",
    request: { fields: ReconciliationInput, example: { bill_date: '20261129' } },
    reply: {
      data: z.object({
        bill_date: text,
        generated_at: text,
        run: text,
        bill: z.enum(['found', 'none']),
        totals: z.object({
          bill: z.object({ payments: z.int(), payment_fee: fen, refunds: z.int(), refund_fee: fen }),
          ledger: z.object({ payments: z.int(), payment_fee: fen }),
        }),
        discrepancies: z.array(Discrepancy),
        fixed: z.array(
          z.object({
            kind: z.enum(['payment_recorded', 'refund_recorded']),
            out_trade_no: text,
            out_refund_no: z.optional(text),
          }),
        ),
        relay_failed: z.array(z.object({ out_trade_no: text, relays: z.array(text) })),
        malformed: z.array(z.object({ line: z.int(), reason: text })),
      }),
      example: {
        bill_date: '20261129',
        generated_at: '2026-11-30T03:00:04.000Z',
        run: 'reconcile-20261129',
        bill: 'found',
        totals: {
          bill: { payments: 1, payment_fee: 101, refunds: 1, refund_fee: 30 },
          ledger: { payments: 1, payment_fee: 101 },
        },
        discrepancies: [],
        fixed: [],
        relay_failed: [],
        malformed: [],
      },
    },
    accepted: {
      data: z.object({
        run: text,
        status: text,
        progress: z.object({
          phase: z.enum(['download', 'check', 'done']),
          items: z.optional(z.int()),
          chunks: z.optional(z.int()),
          done: z.optional(z.int()),
        }),
      }),
      example: {
        run: 'reconcile-20261129',
        status: 'running',
        progress: { phase: 'check', items: 1200, chunks: 5, done: 2 },
      },
    },
    failures: ['upstream', 'timeout'],
    wechatCodes: [],
  },
]
