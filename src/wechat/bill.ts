/**
 * @module
 * The daily ALL bill from `/pay/downloadbill` (refunds reference §4.3–§4.4): a header line, one
 * line per payment or refund with every value prefixed by a backtick, then a summary header and a
 * summary line. Columns are found by name. Amounts in yuan become integers of fen by reading the
 * digits, never through floating point; 手续费 (five decimals, negative on refunds) stays text,
 * because a hundredth of a fen is not a fen. Anything unexpected is a {@link BillError}.
 */

/** A bill the parser refuses; `message` names the line and column, never more than a short value. */
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

export type Bill = { rows: BillRow[]; summary: BillSummary }

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

/**
 * Parses the text of an ALL bill.
 * @example parseBill(csv).rows.filter((row) => row.kind === 'refund')
 * @throws {BillError} for a header that is not the ALL bill's, a line with another number of
 *   columns, a value without its backtick, or an amount that is not yuan with two decimals.
 */
export function parseBill(text: string): Bill {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  if (lines.length < 3) throw new BillError('a bill has a header, a summary header and a summary line at least')
  const at = columnIndex(lines[0] as string, ALL_COLUMNS, 'header')
  const sumAt = columnIndex(lines[lines.length - 2] as string, SUMMARY_COLUMNS, 'summary header')
  const rows = lines.slice(1, -2).map((line, i) => rowOf(values(line, ALL_COLUMNS.length, i + 2), at, i + 2))
  const sums = values(lines[lines.length - 1] as string, SUMMARY_COLUMNS.length, lines.length)
  const sum = (name: (typeof SUMMARY_COLUMNS)[number]) => sums[sumAt[name]] as string
  const line = lines.length
  const count = sum('总交易单数')
  if (!/^(0|[1-9][0-9]{0,8})$/.test(count)) throw new BillError(`line ${line}: 总交易单数 is not a count`)
  return {
    rows,
    summary: {
      count: Number(count),
      settlement_total_fee: fen(sum('应结订单总金额'), line, '应结订单总金额'),
      refund_fee: fen(sum('退款总金额'), line, '退款总金额'),
      coupon_refund_fee: fen(sum('充值券退款总金额'), line, '充值券退款总金额'),
      service_fee: serviceFee(sum('手续费总金额'), line, '手续费总金额'),
      total_fee: fen(sum('订单总金额'), line, '订单总金额'),
      applied_refund_fee: fen(sum('申请退款总金额'), line, '申请退款总金额'),
    },
  }
}

/** Each expected column's position in a header line; every one must be there, once, and nothing else. */
function columnIndex<C extends string>(line: string, columns: readonly C[], what: string): Record<C, number> {
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

/** A data line's values, each stripped of its backtick. No quoting exists in the format (§4.3). */
function values(line: string, expected: number, n: number): string[] {
  const parts = line.split(',')
  if (parts.length !== expected) throw new BillError(`line ${n} has ${parts.length} columns, expected ${expected}`)
  return parts.map((part, i) => {
    if (!part.startsWith('`')) throw new BillError(`line ${n}, column ${i + 1}: the value lacks its backtick`)
    return part.slice(1)
  })
}

function rowOf(cells: string[], at: Record<(typeof ALL_COLUMNS)[number], number>, n: number): BillRow {
  const cell = (name: (typeof ALL_COLUMNS)[number]) => cells[at[name]] as string
  const money = (name: (typeof ALL_COLUMNS)[number]) => fen(cell(name), n, name)
  const time = cell('交易时间')
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(time)) throw new BillError(`line ${n}: 交易时间 is not a time`)
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
    service_fee: serviceFee(cell('手续费'), n, '手续费'),
    rate: cell('费率'),
    total_fee: money('订单金额'),
    rate_note: cell('费率备注'),
  }
  if (!base.out_trade_no || !base.transaction_id) throw new BillError(`line ${n}: an order id is empty`)
  const state = cell('交易状态')
  if (state === 'SUCCESS') return { ...base, kind: 'payment', trade_state: 'SUCCESS' }
  if (state !== 'REFUND') {
    if (!/^[A-Z_]{1,32}$/.test(state)) throw new BillError(`line ${n}: 交易状态 is not a state`)
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
    throw new BillError(`line ${n}: a refund line lacks its refund ids or status`)
  }
  return refund
}

function fen(text: string, n: number, name: string): number {
  const value = yuanToFen(text)
  if (value === undefined)
    throw new BillError(`line ${n}: ${name} "${text.slice(0, 20)}" is not yuan with two decimals`)
  return value
}

function serviceFee(text: string, n: number, name: string): string {
  if (!/^-?(0|[1-9][0-9]{0,12})\.[0-9]{5}$/.test(text)) {
    throw new BillError(`line ${n}: ${name} "${text.slice(0, 20)}" is not yuan with five decimals`)
  }
  return text
}
