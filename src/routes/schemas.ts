/**
 * @module
 * What each /v1/pay route accepts, built from the field rules in input.ts (reference §3.1, §4.1, §5).
 */
import * as z from 'zod/mini'
import { rules } from './input'

const orderFields = {
  /** One of the merchant's appids (WXPAY_APPID); checked against them when the order is placed. */
  appid: z.optional(rules.appid),
  body: rules.body,
  out_trade_no: rules.out_trade_no,
  total_fee: rules.total_fee,
  spbill_create_ip: rules.spbill_create_ip,
  notify_url: rules.notify_url,
  attach: z.optional(rules.attach),
  detail: z.optional(rules.detail),
  time_expire: z.optional(rules.time_expire),
  goods_tag: z.optional(rules.goods_tag),
  limit_pay: z.optional(rules.limit_pay),
  device_info: z.optional(rules.device_info),
}

export const ParamsInput = z.strictObject({ ...orderFields, openid: rules.openid })

export const UnifiedInput = z
  .strictObject({
    ...orderFields,
    trade_type: rules.trade_type,
    openid: z.optional(rules.openid),
    product_id: z.optional(rules.product_id),
    scene_info: z.optional(rules.scene_info),
  })
  .check(
    z.superRefine((value, ctx) => {
      if (value.trade_type === 'JSAPI' && !value.openid) {
        ctx.addIssue({ code: 'custom', path: ['openid'], message: 'is required when trade_type is JSAPI' })
      }
      if (value.trade_type === 'MWEB' && !value.scene_info) {
        ctx.addIssue({
          code: 'custom',
          path: ['scene_info'],
          message: 'is required when trade_type is MWEB (h5_info JSON)',
        })
      }
    }),
  )

export const QueryInput = z.strictObject({
  out_trade_no: rules.out_trade_no,
  transaction_id: z.optional(rules.transaction_id),
})

/** A unified order as placeOrder takes it; /params is the same with trade_type JSAPI. */
export type OrderInput = z.output<typeof UnifiedInput>

export const RedeliverInput = z.strictObject({
  out_trade_no: rules.out_trade_no,
  out_refund_no: z.optional(rules.out_refund_no),
})

export const RefundInput = z.strictObject({
  out_trade_no: rules.out_trade_no,
  out_refund_no: rules.out_refund_no,
  refund_fee: rules.refund_fee,
  refund_desc: z.optional(rules.refund_desc),
  notify_url: z.optional(rules.notify_url),
})

export const RefundQueryInput = z
  .strictObject({
    out_trade_no: z.optional(rules.out_trade_no),
    out_refund_no: z.optional(rules.out_refund_no),
  })
  .check(
    z.superRefine((value, ctx) => {
      if (!value.out_trade_no && !value.out_refund_no) {
        ctx.addIssue({ code: 'custom', path: ['out_refund_no'], message: 'is required when out_trade_no is not given' })
      }
    }),
  )

export const ReconciliationInput = z.strictObject({
  bill_date: rules.bill_date,
  refresh: z.optional(rules.refresh),
})
