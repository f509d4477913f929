/**
 * @module
 * The reconciliation report and its parts. Each batch of checks answers {@link Findings}; the
 * report adds them up with what the diff found, and is kept as `reconciliation:<yyyyMMdd>`.
 */
import type { OrderRecord } from '../ledger/record'

export type Discrepancy = {
  kind:
    | 'unknown_order'
    | 'payment_not_recorded'
    | 'amount_mismatch'
    | 'transaction_mismatch'
    | 'missing_from_bill'
    | 'refund_not_recorded'
    | 'refund_amount_mismatch'
    /** The order could not be checked (its ledger failed); `reason` says why. */
    | 'unchecked'
  out_trade_no: string
  out_refund_no?: string
  bill: Record<string, string | number> | null
  ledger: Record<string, string | number> | null
  reason?: string
}

export type Fixed = {
  kind: 'payment_recorded' | 'refund_recorded'
  out_trade_no: string
  out_refund_no?: string
}

export type RelayFailed = { out_trade_no: string; relays: string[] }

/** What one batch of checks found. */
export type Findings = {
  discrepancies: Discrepancy[]
  fixed: Fixed[]
  relay_failed: RelayFailed[]
  /** The ledgers' payments of the day that the index did not already count. */
  ledger: { payments: number; payment_fee: number }
}

export type Totals = {
  bill: { payments: number; payment_fee: number; refunds: number; refund_fee: number }
  ledger: { payments: number; payment_fee: number }
}

export type Report = {
  bill_date: string
  generated_at: string
  /** The Workflow instance that made it (`reconcile-<yyyyMMdd>`, then `-2`, `-3`… for each refresh). */
  run: string
  /** `found`, or `none` when WeChat has no bill for the day (no trades): an answer, not an error. */
  bill: 'found' | 'none'
  totals: Totals
  discrepancies: Discrepancy[]
  fixed: Fixed[]
  relay_failed: RelayFailed[]
  /** Bill lines that could not be read (the rest of the day is reconciled). */
  malformed: { line: number; reason: string }[]
}

export const noFindings = (): Findings => ({
  discrepancies: [],
  fixed: [],
  relay_failed: [],
  ledger: { payments: 0, payment_fee: 0 },
})

/** Adds `more` into `into`. */
export function addFindings(into: Findings, more: Findings): Findings {
  into.discrepancies.push(...more.discrepancies)
  into.fixed.push(...more.fixed)
  into.relay_failed.push(...more.relay_failed)
  into.ledger.payments += more.ledger.payments
  into.ledger.payment_fee += more.ledger.payment_fee
  return into
}

export function paymentOf(record: OrderRecord | null): Record<string, string | number> | null {
  if (!record) return null
  return {
    trade_state: record.trade_state,
    total_fee: record.total_fee,
    ...(record.transaction_id !== undefined && { transaction_id: record.transaction_id }),
  }
}

// A first day can have 100,000 differences: the report keeps them all, the log the first of each.
const LOGGED = 200

/** One summary line, then one line per malformed bill line, discrepancy and fix (the first {@link LOGGED} of each). */
export function logReport(report: Report): void {
  console.info(
    JSON.stringify({
      event: 'reconciliation',
      bill_date: report.bill_date,
      run: report.run,
      bill: report.bill,
      discrepancies: report.discrepancies.length,
      fixed: report.fixed.length,
      relay_failed: report.relay_failed.length,
      malformed: report.malformed.length,
    }),
  )
  for (const line of report.malformed.slice(0, LOGGED)) {
    console.warn(JSON.stringify({ event: 'reconciliation_malformed_line', bill_date: report.bill_date, ...line }))
  }
  for (const discrepancy of report.discrepancies.slice(0, LOGGED)) {
    console.warn(JSON.stringify({ event: 'reconciliation_discrepancy', bill_date: report.bill_date, ...discrepancy }))
  }
  for (const fixed of report.fixed.slice(0, LOGGED)) {
    console.info(JSON.stringify({ event: 'reconciliation_fixed', bill_date: report.bill_date, ...fixed }))
  }
}
