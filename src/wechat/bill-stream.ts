/**
 * @module
 * Stand-in for the streamed bill reader (`readBill` in bill.ts, arriving with the comma-safe
 * parser): the same interface over today's whole-text `parseBill`, so the reconciliation is built
 * against the stream. Removed when bill.ts exports `readBill`.
 */
import { BillError, type BillRow, type BillSummary, parseBill } from './bill'

export type BillEntry =
  | { kind: 'row'; line: number; row: BillRow }
  | { kind: 'malformed'; line: number; reason: string }
  | { kind: 'summary'; line: number; summary: BillSummary }

export async function* readBill(body: ReadableStream<Uint8Array>): AsyncIterable<BillEntry> {
  const text = await new Response(body).text()
  let bill: ReturnType<typeof parseBill>
  try {
    bill = parseBill(text)
  } catch (err) {
    if (!(err instanceof BillError)) throw err
    yield { kind: 'malformed', line: Number(/line (\d+)/.exec(err.message)?.[1] ?? 0), reason: err.message }
    return
  }
  let line = 1
  for (const row of bill.rows) yield { kind: 'row', line: ++line, row }
  yield { kind: 'summary', line: line + 2, summary: bill.summary }
}
