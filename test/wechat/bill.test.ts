/**
 * @module
 * The ALL bill parser against a bill in WeChat's published shape (refunds reference §4.4), edge
 * amounts in yuan, and malformed bills.
 */
import { describe, expect, it } from 'vitest'
import { ALL_COLUMNS, BillError, parseBill, yuanToFen } from '../../src/wechat/bill'

// Reference §4.4 verbatim: one payment of 1.01 and a 0.30 refund the same day, lines ending in \r\n.
const SAMPLE = [
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
  '`2026-11-28 09:12:03,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001202611280000000001,`ORD20261128001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`CMC,`CNY,`1.01,`0.00,`0,`0,`0.00,`0.00,`,`,`测试商品,`,`0.01000,`0.60%,`1.01,`0.00,`',
  '`2026-11-28 10:15:00,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001202611280000000001,`ORD20261128001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`CMC,`CNY,`0.00,`0.00,`50300000012026112800000000001,`RF20261128001,`0.30,`0.00,`ORIGINAL,`SUCCESS,`测试商品,`,`0.00000,`0.60%,`0.00,`0.30,`',
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
  '`2,`1.01,`0.30,`0.00,`0.01000,`1.01,`0.30',
].join('\r\n')
const bill = `${SAMPLE}\r\n`
const lines = SAMPLE.split('\r\n')

/** The sample with one line replaced. */
const withLine = (index: number, line: string) => lines.map((l, i) => (i === index ? line : l)).join('\r\n')
/** The payment line with one column's value replaced (value given without its backtick). */
const withPaymentValue = (column: (typeof ALL_COLUMNS)[number], value: string) => {
  const cells = (lines[1] as string).split(',')
  cells[ALL_COLUMNS.indexOf(column)] = `\`${value}`
  return withLine(1, cells.join(','))
}

describe('parseBill', () => {
  it('reads the published sample: one payment, one refund, the summary', () => {
    const { rows, summary } = parseBill(bill)
    expect(rows).toEqual([
      {
        kind: 'payment',
        trade_state: 'SUCCESS',
        time: '2026-11-28 09:12:03',
        appid: 'wx2421b1c4370ec43b',
        mch_id: '10000100',
        sub_mch_id: '0',
        device_info: '',
        transaction_id: '4200000001202611280000000001',
        out_trade_no: 'ORD20261128001',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        trade_type: 'JSAPI',
        bank_type: 'CMC',
        fee_type: 'CNY',
        settlement_total_fee: 101,
        coupon_fee: 0,
        body: '测试商品',
        attach: '',
        service_fee: '0.01000',
        rate: '0.60%',
        total_fee: 101,
        rate_note: '',
      },
      {
        kind: 'refund',
        trade_state: 'REFUND',
        time: '2026-11-28 10:15:00',
        appid: 'wx2421b1c4370ec43b',
        mch_id: '10000100',
        sub_mch_id: '0',
        device_info: '',
        transaction_id: '4200000001202611280000000001',
        out_trade_no: 'ORD20261128001',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        trade_type: 'JSAPI',
        bank_type: 'CMC',
        fee_type: 'CNY',
        settlement_total_fee: 0,
        coupon_fee: 0,
        body: '测试商品',
        attach: '',
        service_fee: '0.00000',
        rate: '0.60%',
        total_fee: 0,
        rate_note: '',
        refund_id: '50300000012026112800000000001',
        out_refund_no: 'RF20261128001',
        refund_fee: 30,
        coupon_refund_fee: 0,
        refund_type: 'ORIGINAL',
        refund_status: 'SUCCESS',
        applied_refund_fee: 30,
      },
    ])
    expect(summary).toEqual({
      count: 2,
      settlement_total_fee: 101,
      refund_fee: 30,
      coupon_refund_fee: 0,
      service_fee: '0.01000',
      total_fee: 101,
      applied_refund_fee: 30,
    })
  })

  it('reads \\n line ends, no final line end, and a byte-order mark alike', () => {
    const expected = parseBill(bill)
    expect(parseBill(SAMPLE.replaceAll('\r\n', '\n'))).toEqual(expected)
    expect(parseBill(`\uFEFF${SAMPLE}`)).toEqual(expected)
  })

  it('finds columns by name, whatever their order', () => {
    const order = [...ALL_COLUMNS.keys()].reverse()
    const reorder = (line: string) => {
      const cells = line.split(',')
      return order.map((i) => cells[i]).join(',')
    }
    const swapped = [
      reorder(lines[0] as string),
      reorder(lines[1] as string),
      reorder(lines[2] as string),
      lines[3],
      lines[4],
    ]
    expect(parseBill(swapped.join('\r\n'))).toEqual(parseBill(bill))
  })

  it('reads a day with no detail lines', () => {
    const empty = [lines[0], lines[3], '`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00'].join('\r\n')
    expect(parseBill(empty)).toMatchObject({ rows: [], summary: { count: 0, total_fee: 0 } })
  })

  it('keeps other trade states (REVOKED) as kind other, and negative service fees as text', () => {
    const revoked = parseBill(withPaymentValue('交易状态', 'REVOKED'))
    expect(revoked.rows[0]).toMatchObject({ kind: 'other', trade_state: 'REVOKED', total_fee: 101 })
    expect(parseBill(withPaymentValue('手续费', '-0.27000')).rows[0]?.service_fee).toBe('-0.27000')
  })

  it.each([
    ['a header with a column missing', withLine(0, (lines[0] as string).replace(',费率备注', '')), '26 columns'],
    [
      'a header with a renamed column',
      withLine(0, (lines[0] as string).replace('退款金额', '退款总额')),
      'lacks the column 退款金额',
    ],
    ['the legacy 24-column header', withLine(0, (lines[0] as string).split(',').slice(0, 24).join(',')), '24 columns'],
    ['a line with a comma in 商品名称', withPaymentValue('商品名称', '茶,咖啡'), 'line 2 has 28 columns'],
    ['a value without its backtick', withLine(1, (lines[1] as string).replace('`JSAPI', 'JSAPI')), 'backtick'],
    ['an amount with one decimal', withPaymentValue('订单金额', '1.1'), '订单金额'],
    ['an amount without decimals', withPaymentValue('应结订单金额', '101'), '应结订单金额'],
    ['an amount in scientific notation', withPaymentValue('订单金额', '1e2'), '订单金额'],
    ['a negative amount', withPaymentValue('代金券金额', '-0.01'), '代金券金额'],
    ['a service fee with two decimals', withPaymentValue('手续费', '0.01'), '手续费'],
    ['a time in another format', withPaymentValue('交易时间', '20261128091203'), '交易时间'],
    ['an empty out_trade_no', withPaymentValue('商户订单号', ''), 'order id'],
    [
      'a refund line without out_refund_no',
      withLine(2, (lines[2] as string).replace('`RF20261128001', '`')),
      'refund ids',
    ],
    ['a summary count that is not a number', withLine(4, (lines[4] as string).replace('`2,', '`two,')), '总交易单数'],
    ['a summary line with a column missing', withLine(4, '`2,`1.01,`0.30,`0.00,`0.01000,`1.01'), 'columns'],
    ['nothing but a header', lines[0] as string, 'at least'],
    ['an XML error reply', '<xml><return_code>FAIL</return_code></xml>', 'at least'],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseBill(text)).toThrow(BillError)
    expect(() => parseBill(text)).toThrow(message)
  })
})

describe('yuanToFen', () => {
  it.each([
    ['0.01', 1],
    ['0.10', 10],
    ['1.10', 110],
    ['1.01', 101],
    ['0.00', 0],
    ['19.99', 1999],
    ['100000.00', 10000000],
    ['9999999999999.99', 999999999999999],
  ])('%s yuan is %i fen', (text, fen) => {
    expect(yuanToFen(text)).toBe(fen)
  })

  it('is exact where floating point is not (0.29 × 100 = 28.999999999999996)', () => {
    expect(0.29 * 100).not.toBe(29)
    expect(yuanToFen('0.29')).toBe(29)
    expect(yuanToFen('1.15')).toBe(115)
  })

  it.each([
    '1',
    '1.1',
    '1.100',
    '.10',
    '01.10',
    '-1.00',
    '+1.00',
    '1,000.00',
    ' 1.00',
    '1.00 ',
    '1e2',
    '',
    'NaN',
    '10000000000000.00',
  ])('refuses "%s"', (text) => {
    expect(yuanToFen(text)).toBeUndefined()
  })
})
