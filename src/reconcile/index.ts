/**
 * @module
 * The daily bill reconciled with the ledgers (README "No payment goes unheard"): WeChat's ALL bill
 * for a Beijing day against the day's KV index keys, and only the differences against the ledgers
 * and WeChat. The bill is unsigned, so it never moves money state on its own: what it shows that a
 * ledger lacks is confirmed with orderquery or refundquery (signed) and learned as a notification
 * would be. Runs as a Workflow (workflow.ts); the report is kept as `reconciliation:<day>`.
 */
export type { Discrepancy, Fixed, Report } from './report'
export { previousBeijingDay, reconciliation, runId, startRun } from './run'
export { Reconciliation, ReconciliationBatch } from './workflow'
