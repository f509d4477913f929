/**
 * @module
 * The daily ALL bill from `/pay/downloadbill` (refunds reference §4.3–§4.4), read as it streams: a
 * header line, one line per payment or refund, then a summary header and a summary line. Only one
 * line is held at a time (bill-lines.ts), so a 100,000-order day costs the memory of one line.
 * A detail line that cannot be read is reported with its number and the day goes on; only a bill
 * that cannot be read as a whole (another header, no summary: cut short) throws {@link BillError}.
 */
import { ALL_COLUMNS, BillError, type BillRow, type BillSummary, SUMMARY_COLUMNS } from './bill-format'
import { type LineOptions, linesOf } from './bill-lines'
import { type Columns, columnIndex, rowOf, type SummaryColumns, summaryOf } from './bill-row'

export {
  ALL_COLUMNS,
  BillError,
  type BillOther,
  type BillPayment,
  type BillRefund,
  type BillRow,
  type BillRowBase,
  type BillSummary,
  SUMMARY_COLUMNS,
  yuanToFen,
} from './bill-format'
export { MAX_LINE_LENGTH } from './bill-lines'

/** One line's worth of the bill, numbered as in the file (the header is line 1). */
export type BillEntry =
  | { kind: 'row'; line: number; row: BillRow }
  | { kind: 'malformed'; line: number; reason: string }
  | { kind: 'summary'; line: number; summary: BillSummary }

export type ReadBillOptions = LineOptions

/**
 * Reads a bill body (already decompressed) line by line, never holding the whole day.
 * @example
 * for await (const entry of readBill(reply.body)) {
 *   if (entry.kind === 'row' && entry.row.kind === 'payment') await check(entry.row)
 * }
 * @throws {BillError} for a header or summary header that is not the ALL bill's, a body that ends
 *   before its summary, or a stream that fails; a bad detail line is a `malformed` entry instead.
 */
export async function* readBill(
  body: ReadableStream<Uint8Array>,
  options: ReadBillOptions = {},
): AsyncIterable<BillEntry> {
  let columns: Columns | undefined
  let sums: SummaryColumns | undefined
  let done = false
  let last = 0
  for await (const item of linesOf(body, options)) {
    last = item.line
    if (!columns) {
      if ('tooLong' in item) throw new BillError('the first line is not the ALL bill header')
      columns = columnIndex(item.text, ALL_COLUMNS, 'header')
      continue
    }
    if ('tooLong' in item) {
      yield malformed(item.line, 'the line is too long to be a bill line')
      continue
    }
    const { line, text } = item
    // Blank lines carry nothing: the final line end, or an extra one.
    if (text === '') continue
    if (done) yield malformed(line, 'a line after the summary')
    else if (sums) {
      const at = sums
      yield read(line, () => ({ kind: 'summary', line, summary: summaryOf(text, at) }))
      done = true
    } else if (text.startsWith('`')) {
      const at = columns
      yield read(line, () => ({ kind: 'row', line, row: rowOf(text, at) }))
    } else if (isSummaryHeader(text)) {
      sums = columnIndex(text, SUMMARY_COLUMNS, 'summary header')
    } else {
      yield malformed(line, 'the line is neither a bill line (values start with a backtick) nor the summary header')
    }
  }
  if (!columns) throw new BillError('the bill is empty')
  if (!done) throw new BillError(`the bill ends at line ${last} without its summary: it was cut short`)
}

/** The entry `make` builds, or the reason it could not. */
function read(line: number, make: () => BillEntry): BillEntry {
  try {
    return make()
  } catch (err) {
    if (err instanceof BillError) return malformed(line, err.message)
    throw err
  }
}

function malformed(line: number, reason: string): BillEntry {
  return { kind: 'malformed', line, reason }
}

/** Header lines carry no backticks (§4.3); the summary's is the one naming 总交易单数. */
function isSummaryHeader(text: string): boolean {
  return !text.includes('`') && text.split(',').includes('总交易单数')
}
