/**
 * @module
 * The ALL bill read as a stream (refunds reference §4.3–§4.4): the published sample, values holding
 * commas, quotes, backticks and CJK text, a byte-order mark and CRLF, any chunking; malformed lines
 * reported with their number while the rest of the day is read; bills unreadable as a whole; and a
 * 100,000-line day read holding one line at a time.
 */
import { describe, expect, it } from 'vitest'
import { ALL_COLUMNS, BillError, type BillRow, MAX_LINE_LENGTH, readBill, yuanToFen } from '../../src/wechat/bill'
import { entriesOf, generated } from './bill-streams'

const HEADER = ALL_COLUMNS.join(',')
const SUMMARY_HEADER = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额'
// Reference §4.4 verbatim: one payment of 1.01 and a 0.30 refund the same day, lines ending in \r\n.
const PAYMENT_LINE =
  '`2026-11-28 09:12:03,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001202611280000000001,`ORD20261128001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`CMC,`CNY,`1.01,`0.00,`0,`0,`0.00,`0.00,`,`,`测试商品,`,`0.01000,`0.60%,`1.01,`0.00,`'
const REFUND_LINE =
  '`2026-11-28 10:15:00,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001202611280000000001,`ORD20261128001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`CMC,`CNY,`0.00,`0.00,`50300000012026112800000000001,`RF20261128001,`0.30,`0.00,`ORIGINAL,`SUCCESS,`测试商品,`,`0.00000,`0.60%,`0.00,`0.30,`'
const SUMMARY_LINE = '`2,`1.01,`0.30,`0.00,`0.01000,`1.01,`0.30'
const lines = [HEADER, PAYMENT_LINE, REFUND_LINE, SUMMARY_HEADER, SUMMARY_LINE]
const SAMPLE = `${lines.join('\r\n')}\r\n`

const PAYMENT: BillRow = {
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
}
const REFUND: BillRow = {
  ...PAYMENT,
  kind: 'refund',
  trade_state: 'REFUND',
  time: '2026-11-28 10:15:00',
  settlement_total_fee: 0,
  service_fee: '0.00000',
  total_fee: 0,
  refund_id: '50300000012026112800000000001',
  out_refund_no: 'RF20261128001',
  refund_fee: 30,
  coupon_refund_fee: 0,
  refund_type: 'ORIGINAL',
  refund_status: 'SUCCESS',
  applied_refund_fee: 30,
}
const SUMMARY = {
  count: 2,
  settlement_total_fee: 101,
  refund_fee: 30,
  coupon_refund_fee: 0,
  service_fee: '0.01000',
  total_fee: 101,
  applied_refund_fee: 30,
}
const EXPECTED = [
  { kind: 'row', line: 2, row: PAYMENT },
  { kind: 'row', line: 3, row: REFUND },
  { kind: 'summary', line: 5, summary: SUMMARY },
]

/** A data line's values without backticks, and back. */
const cellsOf = (line: string) => line.slice(1).split(',`')
const lineOf = (cells: readonly string[]) => `\`${cells.join(',`')}`
/** The payment line with the values of `changes` (given without backticks). */
function payment(changes: Partial<Record<(typeof ALL_COLUMNS)[number], string>>): string {
  const cells = cellsOf(PAYMENT_LINE)
  for (const [column, value] of Object.entries(changes)) {
    cells[ALL_COLUMNS.indexOf(column as (typeof ALL_COLUMNS)[number])] = value
  }
  return lineOf(cells)
}
/** The sample with line `n` (1-based) replaced. */
const withLine = (n: number, line: string) => lines.map((l, i) => (i === n - 1 ? line : l)).join('\r\n')

describe('readBill', () => {
  it('reads the published sample: one payment, one refund, the summary, numbered as in the file', async () => {
    expect(await entriesOf(SAMPLE)).toEqual(EXPECTED)
  })

  it.each([1, 2, 3, 5, 7, 64])(
    'reads the same in chunks of %i bytes (CRLF and CJK characters split across chunks)',
    async (size) => {
      expect(await entriesOf(SAMPLE, size)).toEqual(EXPECTED)
    },
  )

  it('reads \\n line ends, no final line end, a byte-order mark and trailing blank lines alike', async () => {
    expect(await entriesOf(SAMPLE.replaceAll('\r\n', '\n'))).toEqual(EXPECTED)
    expect(await entriesOf(lines.join('\r\n'))).toEqual(EXPECTED)
    expect(await entriesOf(`\uFEFF${SAMPLE}\r\n\r\n`, 1)).toEqual(EXPECTED)
  })

  it('keeps commas, quotes, backticks and CJK text inside 商品名称 and 商户数据包 (BOM, CRLF, 3-byte chunks)', async () => {
    const texts = [
      ['T-shirt, XL', 'size=XL,colour=red'],
      ['"Quoted", 大杯', '{"note":"a,b","q":"\\"x\\""}'],
      ['`backtick` first', 'ends with a comma,'],
      ['中文，全角逗号,半角逗号', ',,,'],
      ["it's `fine`, really", '`'],
      ['', 'a`,b'],
    ]
    const rows = texts.map(([body, attach], i) =>
      payment({ 商户订单号: `ORD${i}`, 商品名称: body, 商户数据包: attach }),
    )
    const bill = `\uFEFF${[HEADER, ...rows, SUMMARY_HEADER, SUMMARY_LINE].join('\r\n')}\r\n`
    const entries = await entriesOf(bill, 3)
    expect(entries.map((e) => e.kind)).toEqual([...texts.map(() => 'row'), 'summary'])
    expect(entries.flatMap((e) => (e.kind === 'row' ? [[e.row.body, e.row.attach]] : []))).toEqual(texts)
    expect(entries.flatMap((e) => (e.kind === 'row' ? [e.row.total_fee] : []))).toEqual(texts.map(() => 101))
  })

  it('finds columns by name, whatever their order', async () => {
    const order = [...ALL_COLUMNS.keys()].reverse()
    const reorder = (line: string) => lineOf(order.map((i) => cellsOf(line)[i] as string))
    const names = HEADER.split(',')
    const swapped = [order.map((i) => names[i]).join(','), reorder(PAYMENT_LINE), reorder(REFUND_LINE)]
    expect(await entriesOf([...swapped, SUMMARY_HEADER, SUMMARY_LINE].join('\r\n'))).toEqual(EXPECTED)
  })

  it('reads a day with no detail lines', async () => {
    const empty = [HEADER, SUMMARY_HEADER, '`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00'].join('\r\n')
    expect(await entriesOf(empty)).toEqual([
      { kind: 'summary', line: 3, summary: expect.objectContaining({ count: 0, total_fee: 0 }) },
    ])
  })

  it('keeps other trade states (REVOKED) as kind other, and negative service fees as text', async () => {
    const [revoked] = await entriesOf(withLine(2, payment({ 交易状态: 'REVOKED' })))
    expect(revoked).toMatchObject({ row: { kind: 'other', trade_state: 'REVOKED', total_fee: 101 } })
    const [negative] = await entriesOf(withLine(2, payment({ 手续费: '-0.27000' })))
    expect(negative).toMatchObject({ row: { service_fee: '-0.27000' } })
  })

  it('reports malformed lines amid good ones by their line number, and reads on', async () => {
    const bill = [
      HEADER,
      payment({ 商户订单号: 'GOOD1', 商品名称: 'T-shirt, XL' }),
      payment({ 商户订单号: 'BAD1', 订单金额: '1.1' }),
      lineOf(cellsOf(PAYMENT_LINE).slice(1)),
      'a line a proxy added',
      REFUND_LINE,
      SUMMARY_HEADER,
      SUMMARY_LINE,
    ].join('\r\n')
    expect(await entriesOf(bill, 5)).toEqual([
      { kind: 'row', line: 2, row: { ...PAYMENT, out_trade_no: 'GOOD1', body: 'T-shirt, XL' } },
      { kind: 'malformed', line: 3, reason: '订单金额 "1.1" is not yuan with two decimals' },
      { kind: 'malformed', line: 4, reason: 'the line has 26 values, expected 27' },
      { kind: 'malformed', line: 5, reason: expect.stringContaining('neither a bill line') },
      { kind: 'row', line: 6, row: REFUND },
      { kind: 'summary', line: 8, summary: SUMMARY },
    ])
  })

  it.each([
    ['a value without its backtick', withLine(2, PAYMENT_LINE.replace('`JSAPI', 'JSAPI')), 2, '26 values'],
    ['an amount with one decimal', withLine(2, payment({ 订单金额: '1.1' })), 2, '订单金额'],
    ['an amount without decimals', withLine(2, payment({ 应结订单金额: '101' })), 2, '应结订单金额'],
    ['an amount in scientific notation', withLine(2, payment({ 订单金额: '1e2' })), 2, '订单金额'],
    ['a negative amount', withLine(2, payment({ 代金券金额: '-0.01' })), 2, '代金券金额'],
    ['a service fee with two decimals', withLine(2, payment({ 手续费: '0.01' })), 2, '手续费'],
    ['a time in another format', withLine(2, payment({ 交易时间: '20261128091203' })), 2, '交易时间'],
    ['an empty out_trade_no', withLine(2, payment({ 商户订单号: '' })), 2, 'order id'],
    ['a refund line without out_refund_no', withLine(3, REFUND_LINE.replace('`RF20261128001', '`')), 3, 'refund ids'],
    ['a summary count that is not a number', withLine(5, SUMMARY_LINE.replace('`2,', '`two,')), 5, '总交易单数'],
    ['a summary line with a value missing', withLine(5, '`2,`1.01,`0.30,`0.00,`0.01000,`1.01'), 5, '6 values'],
    ['a line after the summary', `${SAMPLE}\`2,\`1.01\r\n`, 6, 'after the summary'],
  ])('reports %s as malformed, and reads the rest', async (_, text, line, reason) => {
    const entries = await entriesOf(text)
    expect(entries.filter((e) => e.kind === 'malformed')).toEqual([
      { kind: 'malformed', line, reason: expect.stringContaining(reason) },
    ])
    // Every other line of the sample is still read: its two detail lines and its summary.
    const read = entries.filter((e) => e.kind !== 'malformed').map((e) => e.line)
    expect(read).toEqual([2, 3, 5].filter((n) => n !== line))
  })

  it.each([
    ['a header with a column missing', withLine(1, HEADER.replace(',费率备注', '')), '26 columns'],
    [
      'a header with a renamed column',
      withLine(1, HEADER.replace('退款金额', '退款总额')),
      'lacks the column 退款金额',
    ],
    ['the legacy 24-column header', withLine(1, HEADER.split(',').slice(0, 24).join(',')), '24 columns'],
    [
      'the legacy summary header',
      withLine(4, '总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额'),
      '5 columns',
    ],
    ['nothing but a header', HEADER, 'ends at line 1 without its summary'],
    ['a bill cut short amid its lines', [HEADER, PAYMENT_LINE, REFUND_LINE.slice(0, 40)].join('\r\n'), 'line 3'],
    ['a bill cut short after its summary header', lines.slice(0, 4).join('\r\n'), 'cut short'],
    ['an empty body', '', 'empty'],
    ['an XML error reply', '<xml><return_code>FAIL</return_code></xml>', 'header has 1 columns'],
  ])('refuses %s as a whole (BillError)', async (_, text, message) => {
    const error = await entriesOf(text).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(BillError)
    expect((error as Error).message).toContain(message)
  })

  it('is a BillError naming the last line read when the stream itself fails', async () => {
    let sent = false
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new TypeError('gzip data is truncated'))
        controller.enqueue(new TextEncoder().encode(`${HEADER}\r\n${PAYMENT_LINE}\r\n`))
        sent = true
      },
    })
    const seen: number[] = []
    const error = await (async () => {
      for await (const entry of readBill(broken)) seen.push(entry.line)
    })().catch((err: unknown) => err)
    expect(seen).toEqual([2])
    expect(error).toBeInstanceOf(BillError)
    expect((error as Error).message).toBe('the bill could not be read after line 2: gzip data is truncated')
  })

  it('does not hold a line longer than any bill line: it is reported and skipped to its end', async () => {
    const pending: number[] = []
    const long = 'x'.repeat(MAX_LINE_LENGTH * 8)
    const bill = [HEADER, PAYMENT_LINE, `\`${long}`, REFUND_LINE, SUMMARY_HEADER, SUMMARY_LINE].join('\r\n')
    const entries = await entriesOf(bill, 1000, { onPending: (chars) => pending.push(chars) })
    expect(entries).toEqual([
      EXPECTED[0],
      { kind: 'malformed', line: 3, reason: 'the line is too long to be a bill line' },
      { kind: 'row', line: 4, row: REFUND },
      { kind: 'summary', line: 6, summary: SUMMARY },
    ])
    expect(Math.max(...pending)).toBeLessThanOrEqual(MAX_LINE_LENGTH + 1000)
  })

  it('stops reading the body when its reader stops', async () => {
    let cancelled = false
    const endless = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`${HEADER}\r\n`))
      },
      pull(controller) {
        controller.enqueue(new TextEncoder().encode(`${PAYMENT_LINE}\r\n`))
      },
      cancel() {
        cancelled = true
      },
    })
    let rows = 0
    for await (const entry of readBill(endless)) {
      if (entry.kind === 'row' && ++rows === 3) break
    }
    expect(rows).toBe(3)
    expect(cancelled).toBe(true)
  })
})

describe('a 100,000-line day', () => {
  const ROWS = 100_000
  const CHUNK = 4093
  /** Payments of 1.01 with commas, quotes and CJK text in 商品名称 and 商户数据包, each line the same length. */
  function* day(): Generator<string> {
    // The line with # where each number goes.
    const parts = payment({
      微信订单号: '4200000001202611280000#',
      商户订单号: 'ORD#',
      商品名称: 'T-shirt, XL "红色" #',
      商户数据包: '{"n":"#","tags":"a,b"}',
    }).split('#')
    yield `\uFEFF${HEADER}\r\n`
    for (let i = 0; i < ROWS; i++) {
      const no = String(i).padStart(6, '0')
      yield `${parts.join(no)}\r\n`
    }
    yield `${SUMMARY_HEADER}\r\n`
    yield `\`${ROWS},\`${ROWS * 1.01}.00,\`0.00,\`0.00,\`${ROWS * 0.01}.00000,\`${ROWS * 1.01}.00,\`0.00\r\n`
  }

  // Under a second on an idle machine; the generous timeout is for a busy one (timing is in npm run bench).
  it('is read whole, one line held at a time, the body pulled only as lines are read', {
    timeout: 60_000,
  }, async () => {
    const { body, made } = generated(day, CHUNK)
    const lineBytes = new TextEncoder().encode(`${payment({})}`).length
    const pending: number[] = []
    // Bytes made beyond the line just read: what the reader asked for ahead of its need.
    let ahead = 0
    let rows = 0
    let total = 0
    let summary: unknown
    for await (const entry of readBill(body, { onPending: (chars) => pending.push(chars) })) {
      if (entry.kind === 'row') {
        rows += 1
        total += entry.row.total_fee
        if (rows % 1000 === 0) ahead = Math.max(ahead, made() - rows * (lineBytes + 60))
      } else if (entry.kind === 'summary') summary = entry.summary
      else throw new Error(`line ${entry.line}: ${entry.reason}`)
    }
    expect(rows).toBe(ROWS)
    expect(total).toBe(ROWS * 101)
    expect(summary).toMatchObject({ count: ROWS, total_fee: ROWS * 101 })
    const bodyBytes = made()
    expect(bodyBytes).toBeGreaterThan(ROWS * 250)
    // Held between chunks: never more than one line (a line is under 500 characters)...
    expect(Math.max(...pending)).toBeLessThan(500)
    expect(pending.length).toBeGreaterThan(bodyBytes / CHUNK / 2)
    // ...and the body is pulled as it is read, never far ahead (the whole body would be 30 MB ahead).
    expect(ahead).toBeLessThan(64 * 1024)
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
