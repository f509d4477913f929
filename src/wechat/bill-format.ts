/**
 * @module
 * The ALL bill's format (refunds reference §4.3–§4.4): its columns and what its rows and summary
 * hold. Amounts in yuan become integers of fen by their digits, never through floating point; 手续费 (five
 * decimals, negative on refunds) stays text, because a hundredth of a fen is not a fen.
 */

/** A line, or a whole bill, the parser refuses; `message` names the column, never more than a short value. */
export class BillError extends Error {
  override readonly name = 'BillError'
}

/** The 27 columns of the ALL bill (§4.3), in WeChat's order. */
export const ALL_COLUMNS = [
  '交易时间',
  '公众账号ID',
  '商户号',
  '特约商户号',
  '设备号',
  '微信订单号',
  '商户订单号',
  '用户标识',
  '交易类型',
  '交易状态',
  '付款银行',
  '货币种类',
  '应结订单金额',
  '代金券金额',
  '微信退款单号',
  '商户退款单号',
  '退款金额',
  '充值券退款金额',
  '退款类型',
  '退款状态',
  '商品名称',
  '商户数据包',
  '手续费',
  '费率',
  '订单金额',
  '申请退款金额',
  '费率备注',
] as const

/** The summary's 7 columns (§4.3, [DB] note 6). */
export const SUMMARY_COLUMNS = [
  '总交易单数',
  '应结订单总金额',
  '退款总金额',
  '充值券退款总金额',
  '手续费总金额',
  '订单总金额',
  '申请退款总金额',
] as const

/** What every detail line carries. */
export type BillRowBase = {
  /** 交易时间, Beijing `yyyy-MM-dd HH:mm:ss`; for a refund, when it was accepted (§4.3). */
  time: string
  appid: string
  mch_id: string
  sub_mch_id: string
  device_info: string
  transaction_id: string
  out_trade_no: string
  openid: string
  trade_type: string
  bank_type: string
  fee_type: string
  /** 应结订单金额 (fen): 0 on refund lines. */
  settlement_total_fee: number
  /** 代金券金额 (fen). */
  coupon_fee: number
  body: string
  attach: string
  /** 手续费 in yuan as WeChat writes it (`0.01000`, `-0.27000`). */
  service_fee: string
  /** 费率 (`0.60%`). */
  rate: string
  /** 订单金额 (fen): 0 on refund lines. */
  total_fee: number
  rate_note: string
}

export type BillPayment = BillRowBase & { kind: 'payment'; trade_state: 'SUCCESS' }

export type BillRefund = BillRowBase & {
  kind: 'refund'
  trade_state: 'REFUND'
  refund_id: string
  out_refund_no: string
  /** 退款金额 (fen). */
  refund_fee: number
  /** 充值券退款金额 (fen). */
  coupon_refund_fee: number
  /** 退款类型, e.g. ORIGINAL. */
  refund_type: string
  /** 退款状态 when the bill was made (SUCCESS, PROCESSING…); never updated afterwards (§4.1). */
  refund_status: string
  /** 申请退款金额 (fen). */
  applied_refund_fee: number
}

/** Any other 交易状态 (e.g. REVOKED: a payment cancelled after success, §4.1), kept rather than dropped. */
export type BillOther = BillRowBase & { kind: 'other'; trade_state: string }

export type BillRow = BillPayment | BillRefund | BillOther

export type BillSummary = {
  count: number
  settlement_total_fee: number
  refund_fee: number
  coupon_refund_fee: number
  service_fee: string
  total_fee: number
  applied_refund_fee: number
}

/**
 * Yuan with exactly two decimals to fen, by its digits.
 * @example yuanToFen('0.01') // 1
 * @example yuanToFen('1.10') // 110
 * @example yuanToFen('1.1') // undefined
 */
export function yuanToFen(text: string): number | undefined {
  const m = /^(0|[1-9][0-9]{0,12})\.([0-9]{2})$/.exec(text)
  return m ? Number(m[1]) * 100 + Number(m[2]) : undefined
}
