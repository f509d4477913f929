/**
 * @module
 * One line of the ALL bill (refunds reference §4.3) as a row or the summary. Header lines carry no
 * backticks and split on `,`; every value of a data line starts with a backtick, so data lines split
 * on the two characters `` ,` ``, which keeps a comma inside 商品名称 or 商户数据包 where it belongs
 * (placement refuses `` ,` `` in those two). Each function throws {@link BillError} naming the column.
 */
import {
  ALL_COLUMNS,
  BillError,
  type BillRefund,
  type BillRow,
  type BillRowBase,
  type BillSummary,
  SUMMARY_COLUMNS,
  yuanToFen,
} from './bill-format'

type Column = (typeof ALL_COLUMNS)[number]
type SummaryColumn = (typeof SUMMARY_COLUMNS)[number]
/** Where each column is in this bill's header: columns are found by name, whatever their order. */
export type Columns = Record<Column, number>
export type SummaryColumns = Record<SummaryColumn, number>

/** Where each column of a header line is; every expected one must be there, once, and nothing else. */
export function columnIndex<C extends string>(line: string, columns: readonly C[], what: string): Record<C, number> {
  const names = line.split(',')
  if (names.length !== columns.length || new Set(names).size !== names.length) {
    throw new BillError(`the ${what} has ${names.length} columns, not the ALL bill's ${columns.length}`)
  }
  const index = {} as Record<C, number>
  for (const column of columns) {
    const i = names.indexOf(column)
    if (i < 0) throw new BillError(`the ${what} lacks the column ${column}`)
    index[column] = i
  }
  return index
}

/**
 * A data line's values without their backticks: split on `` ,` `` (§4.3), never on a bare comma.
 * @example values('`a,`T-shirt, XL,`', 3) // ['a', 'T-shirt, XL', '']
 */
export function values(line: string, expected: number): string[] {
  if (!line.startsWith('`')) throw new BillError('the line does not start with a backtick')
  const parts = line.slice(1).split(',`')
  if (parts.length !== expected) throw new BillError(`the line has ${parts.length} values, expected ${expected}`)
  return parts
}

/** One detail line as a row. */
export function rowOf(line: string, at: Columns): BillRow {
  const cells = values(line, ALL_COLUMNS.length)
  const cell = (name: Column) => cells[at[name]] as string
  const money = (name: Column) => fen(cell(name), name)
  const time = cell('交易时间')
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(time)) throw new BillError('交易时间 is not a time')
  const base: BillRowBase = {
    time,
    appid: cell('公众账号ID'),
    mch_id: cell('商户号'),
    sub_mch_id: cell('特约商户号'),
    device_info: cell('设备号'),
    transaction_id: cell('微信订单号'),
    out_trade_no: cell('商户订单号'),
    openid: cell('用户标识'),
    trade_type: cell('交易类型'),
    bank_type: cell('付款银行'),
    fee_type: cell('货币种类'),
    settlement_total_fee: money('应结订单金额'),
    coupon_fee: money('代金券金额'),
    body: cell('商品名称'),
    attach: cell('商户数据包'),
    service_fee: serviceFee(cell('手续费'), '手续费'),
    rate: cell('费率'),
    total_fee: money('订单金额'),
    rate_note: cell('费率备注'),
  }
  if (!base.out_trade_no || !base.transaction_id) throw new BillError('an order id is empty')
  const state = cell('交易状态')
  if (state === 'SUCCESS') return { ...base, kind: 'payment', trade_state: 'SUCCESS' }
  if (state !== 'REFUND') {
    if (!/^[A-Z_]{1,32}$/.test(state)) throw new BillError('交易状态 is not a state')
    return { ...base, kind: 'other', trade_state: state }
  }
  const refund: BillRefund = {
    ...base,
    kind: 'refund',
    trade_state: 'REFUND',
    refund_id: cell('微信退款单号'),
    out_refund_no: cell('商户退款单号'),
    refund_fee: money('退款金额'),
    coupon_refund_fee: money('充值券退款金额'),
    refund_type: cell('退款类型'),
    refund_status: cell('退款状态'),
    applied_refund_fee: money('申请退款金额'),
  }
  if (!refund.refund_id || !refund.out_refund_no || !/^[A-Z_]{1,32}$/.test(refund.refund_status)) {
    throw new BillError('a refund line lacks its refund ids or status')
  }
  return refund
}

/** The summary line. */
export function summaryOf(line: string, at: SummaryColumns): BillSummary {
  const sums = values(line, SUMMARY_COLUMNS.length)
  const sum = (name: SummaryColumn) => sums[at[name]] as string
  const count = sum('总交易单数')
  if (!/^(0|[1-9][0-9]{0,8})$/.test(count)) throw new BillError('总交易单数 is not a count')
  return {
    count: Number(count),
    settlement_total_fee: fen(sum('应结订单总金额'), '应结订单总金额'),
    refund_fee: fen(sum('退款总金额'), '退款总金额'),
    coupon_refund_fee: fen(sum('充值券退款总金额'), '充值券退款总金额'),
    service_fee: serviceFee(sum('手续费总金额'), '手续费总金额'),
    total_fee: fen(sum('订单总金额'), '订单总金额'),
    applied_refund_fee: fen(sum('申请退款总金额'), '申请退款总金额'),
  }
}

function fen(text: string, name: string): number {
  const value = yuanToFen(text)
  if (value === undefined) throw new BillError(`${name} "${text.slice(0, 20)}" is not yuan with two decimals`)
  return value
}

function serviceFee(text: string, name: string): string {
  if (!/^-?(0|[1-9][0-9]{0,12})\.[0-9]{5}$/.test(text)) {
    throw new BillError(`${name} "${text.slice(0, 20)}" is not yuan with five decimals`)
  }
  return text
}
