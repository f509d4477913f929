/**
 * @module
 * The sandbox's bill written out in WeChat's format (refunds reference §4.3–§4.4): the header, one
 * line per payment or refund with every value after a backtick and written as it is (a comma stays a
 * comma), the summary header and the summary, each line ending in `\r\n`.
 */
import { ALL_COLUMNS, SUMMARY_COLUMNS } from '../wechat/bill'

/** One detail line of the bill. */
export type Line = {
  time: string
  /** Values by column, before backticks. */
  cells: Record<(typeof ALL_COLUMNS)[number], string>
  /** The summary's inputs, in fen. */
  settlement: number
  refund: number
  fee: number
  total: number
  applied: number
}

/** The bill's text, every line ending in `\r\n` (§4.3). */
export function billText(lines: readonly Line[]): string {
  return [...billLines(lines)].join('')
}

/** The bill as a stream, encoded a few hundred lines at a time: a 100,000-line day is never one string. */
export function billBody(lines: readonly Line[]): ReadableStream<Uint8Array> {
  const source = billLines(lines)
  const encoder = new TextEncoder()
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = ''
      for (let i = 0; i < 256; i++) {
        const next = source.next()
        if (next.done) break
        text += next.value
      }
      if (text) controller.enqueue(encoder.encode(text))
      else controller.close()
    },
  })
}

/** Each line of the bill with its `\r\n`. */
function* billLines(lines: readonly Line[]): Generator<string> {
  const sum = (pick: (line: Line) => number) => lines.reduce((total, line) => total + pick(line), 0)
  const summary = [
    String(lines.length),
    yuan(sum((l) => l.settlement)),
    yuan(sum((l) => l.refund)),
    '0.00',
    serviceFee(sum((l) => l.fee)),
    yuan(sum((l) => l.total)),
    yuan(sum((l) => l.applied)),
  ]
  yield `${ALL_COLUMNS.join(',')}\r\n`
  for (const line of lines) yield `${ALL_COLUMNS.map((column) => `\`${line.cells[column]}`).join(',')}\r\n`
  yield `${SUMMARY_COLUMNS.join(',')}\r\n`
  yield `${summary.map((value) => `\`${value}`).join(',')}\r\n`
}

/** Fen as yuan with two decimals. */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** A service fee in whole fen as yuan with five decimals (`0.01000`, `-0.27000`). */
export function serviceFee(fen: number): string {
  return `${yuan(fen)}000`
}
