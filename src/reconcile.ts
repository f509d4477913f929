/**
 * @module
 * The daily bill reconciled with the ledgers: WeChat's ALL bill for a Beijing day (downloadbill)
 * against what each order's ledger holds. The bill is unsigned, so it never moves money state on
 * its own: a payment or refund it shows that a ledger lacks is confirmed with orderquery or
 * refundquery (signed) and learned through the same path as a notification — recorded, relayed
 * once. What cannot be fixed that way is reported. The report is kept as `reconciliation:<day>`.
 */
import { loadConfig } from './config'
import { fail, PayError } from './errors'
import { isFinalRefund, type OrderRecord } from './ledger/record'
import { failedRelays, keys } from './ledger/snapshot'
import { ledgerOf, unwrap } from './ledger/stub'
import { type Wechat as Client, createWechat } from './wechat'
import { BillError, type BillPayment, type BillRefund, type BillRow, readBill } from './wechat/bill'

export type Discrepancy = {
  kind:
    | 'unknown_order'
    | 'payment_not_recorded'
    | 'amount_mismatch'
    | 'transaction_mismatch'
    | 'missing_from_bill'
    | 'refund_not_recorded'
    | 'refund_amount_mismatch'
  out_trade_no: string
  out_refund_no?: string
  bill: Record<string, string | number> | null
  ledger: Record<string, string | number> | null
}

export type Fixed = {
  kind: 'payment_recorded' | 'refund_recorded'
  out_trade_no: string
  out_refund_no?: string
}

export type Report = {
  bill_date: string
  generated_at: string
  /** `found`, or `none` when WeChat has no bill for the day (no trades): an answer, not an error. */
  bill: 'found' | 'none'
  totals: {
    bill: { payments: number; payment_fee: number; refunds: number; refund_fee: number }
    ledger: { payments: number; payment_fee: number }
  }
  discrepancies: Discrepancy[]
  fixed: Fixed[]
  relay_failed: { out_trade_no: string; relays: string[] }[]
  /** Bill lines that could not be read, by line number; the rest of the day is reconciled all the same. */
  malformed: { line: number; reason: string }[]
}

/** Runs the reconciliation of `billDate` (yyyyMMdd, Beijing) and keeps its report in KV. */
export async function reconcile(env: Env, billDate: string): Promise<Report> {
  const config = loadConfig(env)
  const wechat = createWechat({ config, kv: env.ORDERS })
  const answer = await wechat.bill({ bill_date: billDate, bill_type: 'ALL' })
  const bill = answer.kind === 'bill' ? await collect(answer.body, billDate) : { rows: [], malformed: [] }
  const report: Report = {
    bill_date: billDate,
    generated_at: new Date().toISOString(),
    bill: answer.kind === 'bill' ? 'found' : 'none',
    totals: {
      bill: { payments: 0, payment_fee: 0, refunds: 0, refund_fee: 0 },
      ledger: { payments: 0, payment_fee: 0 },
    },
    discrepancies: [],
    fixed: [],
    relay_failed: [],
    malformed: bill.malformed,
  }
  const billed = new Set<string>()
  for (const row of bill.rows) {
    if (row.kind === 'payment') {
      billed.add(row.out_trade_no)
      report.totals.bill.payments += 1
      report.totals.bill.payment_fee += row.total_fee
      await checkPayment(env, wechat, row, report)
    } else if (row.kind === 'refund') {
      report.totals.bill.refunds += 1
      report.totals.bill.refund_fee += row.refund_fee
      await checkRefund(env, wechat, row, report)
    }
  }
  for (const outTradeNo of await listed(env.ORDERS, keys.paidPrefix(billDate))) {
    const record = unwrap(await ledgerOf(env, outTradeNo).get(outTradeNo))
    if (!record?.payment || record.payment.time_end.slice(0, 8) !== billDate) continue
    report.totals.ledger.payments += 1
    report.totals.ledger.payment_fee += record.total_fee
    if (!billed.has(outTradeNo)) {
      report.discrepancies.push({
        kind: 'missing_from_bill',
        out_trade_no: outTradeNo,
        bill: null,
        ledger: paymentOf(record),
      })
    }
  }
  for (const outTradeNo of await listed(env.ORDERS, keys.relayFailedPrefix)) {
    const record = unwrap(await ledgerOf(env, outTradeNo).get(outTradeNo))
    if (record) report.relay_failed.push({ out_trade_no: outTradeNo, relays: failedRelays(record) })
  }
  await env.ORDERS.put(keys.reconciliation(billDate), JSON.stringify(report))
  log(report)
  return report
}

/** The previous Beijing day (yyyyMMdd) at `now`: WeChat publishes a day's bill the next morning. */
export function previousBeijingDay(now: number): string {
  return new Date(now + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')
}

async function checkPayment(env: Env, wechat: Client, row: BillPayment, report: Report): Promise<void> {
  const no = row.out_trade_no
  const ledger = ledgerOf(env, no)
  let record = unwrap(await ledger.get(no))
  const billed = { transaction_id: row.transaction_id, total_fee: row.total_fee, trade_state: row.trade_state }
  if (!record) {
    report.discrepancies.push({ kind: 'unknown_order', out_trade_no: no, bill: billed, ledger: null })
    return
  }
  if (record.total_fee !== row.total_fee) {
    report.discrepancies.push({ kind: 'amount_mismatch', out_trade_no: no, bill: billed, ledger: paymentOf(record) })
    return
  }
  if (!record.payment) {
    // The bill says paid, the ledger never heard: WeChat's signed orderquery decides.
    await confirm(async () => {
      const reply = await wechat.call('/pay/orderquery', { out_trade_no: no })
      await ledger.learnQuery(no, { ...reply })
    })
    record = unwrap(await ledger.get(no))
    if (record?.payment) report.fixed.push({ kind: 'payment_recorded', out_trade_no: no })
    else {
      report.discrepancies.push({
        kind: 'payment_not_recorded',
        out_trade_no: no,
        bill: billed,
        ledger: paymentOf(record),
      })
      return
    }
  }
  if (record.transaction_id !== row.transaction_id) {
    report.discrepancies.push({
      kind: 'transaction_mismatch',
      out_trade_no: no,
      bill: billed,
      ledger: paymentOf(record),
    })
  }
}

async function checkRefund(env: Env, wechat: Client, row: BillRefund, report: Report): Promise<void> {
  const no = row.out_trade_no
  const ledger = ledgerOf(env, no)
  const billed = { out_refund_no: row.out_refund_no, refund_fee: row.refund_fee, refund_status: row.refund_status }
  const find = (record: OrderRecord | null) => record?.refunds?.find((r) => r.out_refund_no === row.out_refund_no)
  let record = unwrap(await ledger.get(no))
  if (!record) {
    report.discrepancies.push({
      kind: 'unknown_order',
      out_trade_no: no,
      out_refund_no: row.out_refund_no,
      bill: billed,
      ledger: null,
    })
    return
  }
  let refund = find(record)
  if (!refund || !isFinalRefund(refund.refund_status)) {
    const before = refund?.refund_status
    await confirm(async () => {
      const reply = await wechat.call('/pay/refundquery', { out_refund_no: row.out_refund_no })
      await ledger.learnRefunds(no, { ...reply })
    })
    record = unwrap(await ledger.get(no))
    refund = find(record)
    if (refund && refund.refund_status !== before) {
      report.fixed.push({ kind: 'refund_recorded', out_trade_no: no, out_refund_no: row.out_refund_no })
    }
  }
  const held = refund && { refund_fee: refund.refund_fee, refund_status: refund.refund_status }
  if (!refund) {
    report.discrepancies.push({
      kind: 'refund_not_recorded',
      out_trade_no: no,
      out_refund_no: row.out_refund_no,
      bill: billed,
      ledger: null,
    })
  } else if (refund.refund_fee !== row.refund_fee) {
    report.discrepancies.push({
      kind: 'refund_amount_mismatch',
      out_trade_no: no,
      out_refund_no: row.out_refund_no,
      bill: billed,
      ledger: held ?? null,
    })
  }
}

/** Runs a confirmation; a WeChat failure is reported by what follows (the ledger unchanged), never thrown. */
async function confirm(step: () => Promise<unknown>): Promise<void> {
  try {
    await step()
  } catch (err) {
    if (!(err instanceof PayError)) throw err
  }
}

function paymentOf(record: OrderRecord | null): Record<string, string | number> | null {
  if (!record) return null
  return {
    trade_state: record.trade_state,
    total_fee: record.total_fee,
    ...(record.transaction_id !== undefined && { transaction_id: record.transaction_id }),
  }
}

/** Every out_trade_no listed under `prefix` (all pages). */
async function listed(kv: KVNamespace, prefix: string): Promise<string[]> {
  const out: string[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await kv.list({ prefix, ...(cursor && { cursor }) })
    for (const { name } of page.keys) out.push(name.slice(name.lastIndexOf(':') + 1))
    if (page.list_complete) return out
    cursor = page.cursor
  }
}

/** The bill's rows and unreadable lines; a bill unreadable as a whole (cut short, another format) is an upstream failure. */
async function collect(body: ReadableStream<Uint8Array>, billDate: string) {
  const rows: BillRow[] = []
  const malformed: Report['malformed'] = []
  try {
    for await (const entry of readBill(body)) {
      if (entry.kind === 'row') rows.push(entry.row)
      else if (entry.kind === 'malformed') malformed.push({ line: entry.line, reason: entry.reason })
    }
  } catch (err) {
    if (err instanceof BillError) throw fail('upstream', `the bill of ${billDate} could not be read: ${err.message}`)
    throw err
  }
  return { rows, malformed }
}

function log(report: Report): void {
  console.info(
    JSON.stringify({
      event: 'reconciliation',
      bill_date: report.bill_date,
      bill: report.bill,
      discrepancies: report.discrepancies.length,
      fixed: report.fixed.length,
      relay_failed: report.relay_failed.length,
      malformed: report.malformed.length,
    }),
  )
  for (const line of report.malformed) {
    console.warn(JSON.stringify({ event: 'reconciliation_malformed_line', bill_date: report.bill_date, ...line }))
  }
  for (const discrepancy of report.discrepancies) {
    console.warn(JSON.stringify({ event: 'reconciliation_discrepancy', bill_date: report.bill_date, ...discrepancy }))
  }
  for (const fixed of report.fixed) {
    console.info(JSON.stringify({ event: 'reconciliation_fixed', bill_date: report.bill_date, ...fixed }))
  }
}
