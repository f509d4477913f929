/**
 * @module
 * The ledger side of a difference, in two passes so a retried step repeats nothing: `look` reads
 * each item's ledger (read-only) and decides what is settled and what WeChat must confirm; `fix`
 * asks WeChat (orderquery / refundquery, signed) for those and has the ledger learn the answer the
 * way it learns a notification — recorded and relayed once. A `fix` retried after a partial run
 * works from `look`'s kept answer, so each fix is reported once. An item whose ledger fails is
 * reported `unchecked` with the reason; the rest of the batch goes on.
 */
import { isFinalRefund, type OrderRecord } from '../ledger/record'
import { failedRelays } from '../ledger/snapshot'
import { ledgerOf, unwrap } from '../ledger/stub'
import type { Client } from '../wechat/client'
import type { Item } from './diff'
import { fixPayment, fixRefund } from './fix'
import { type Discrepancy, type Findings, noFindings, paymentOf } from './report'

/** An item WeChat must confirm, with what its ledger held when looked at. */
export type ToFix = {
  item: Extract<Item, { kind: 'payment' | 'refund' }>
  ledger: Record<string, string | number> | null
  /** The refund's state before (absent: the ledger had no such refund). */
  before?: string
  /** The order's appid when not the default: WeChat is asked under it. */
  appid?: string
}

/** Items checked at once: each is one or two calls, well within the 6 connections a Worker keeps open. */
const PARALLEL = 10

/** Reads each item's ledger; answers what it settles and what needs WeChat. */
export async function look(env: Env, day: string, items: Item[]): Promise<{ findings: Findings; toFix: ToFix[] }> {
  const findings = noFindings()
  const toFix: ToFix[] = []
  await inTurns(items, async (item) => {
    try {
      const record = unwrap(await ledgerOf(env, item.out_trade_no).get(item.out_trade_no))
      lookAt(item, record, day, findings, toFix)
    } catch (err) {
      findings.discrepancies.push(unchecked(item, err))
    }
  })
  return { findings, toFix }
}

/** Confirms each item with WeChat through its ledger. */
export async function fix(env: Env, wechat: Client, day: string, toFix: ToFix[]): Promise<Findings> {
  const findings = noFindings()
  await inTurns(toFix, async (entry) => {
    try {
      if (entry.item.kind === 'payment') await fixPayment(env, wechat, day, entry, entry.item, findings)
      else await fixRefund(env, wechat, entry, entry.item, findings)
    } catch (err) {
      findings.discrepancies.push(unchecked(entry.item, err))
    }
  })
  return findings
}

function lookAt(item: Item, record: OrderRecord | null, day: string, findings: Findings, toFix: ToFix[]): void {
  const no = item.out_trade_no
  if (item.kind === 'relay') {
    const relays = record ? failedRelays(record) : []
    if (relays.length > 0) findings.relay_failed.push({ out_trade_no: no, relays })
    return
  }
  if (item.kind === 'unbilled') {
    if (!record?.payment || record.payment.time_end.slice(0, 8) !== day) return
    if (!item.counted) count(findings, record)
    findings.discrepancies.push({ kind: 'missing_from_bill', out_trade_no: no, bill: null, ledger: paymentOf(record) })
    return
  }
  if (item.kind === 'payment') {
    const bill = { transaction_id: item.transaction_id, total_fee: item.total_fee, trade_state: 'SUCCESS' }
    if (!record)
      return void findings.discrepancies.push({ kind: 'unknown_order', out_trade_no: no, bill, ledger: null })
    if (record.total_fee !== item.total_fee)
      return void findings.discrepancies.push({
        kind: 'amount_mismatch',
        out_trade_no: no,
        bill,
        ledger: paymentOf(record),
      })
    if (!record.payment)
      return void toFix.push({ item, ledger: paymentOf(record), ...(record.appid && { appid: record.appid }) })
    if (!item.counted && record.payment.time_end.slice(0, 8) === day) count(findings, record)
    if (record.transaction_id !== item.transaction_id)
      findings.discrepancies.push({ kind: 'transaction_mismatch', out_trade_no: no, bill, ledger: paymentOf(record) })
    return
  }
  const refundNo = item.out_refund_no
  const bill = { out_refund_no: refundNo, refund_fee: item.refund_fee, refund_status: item.refund_status }
  if (!record) {
    findings.discrepancies.push({
      kind: 'unknown_order',
      out_trade_no: no,
      out_refund_no: refundNo,
      bill,
      ledger: null,
    })
    return
  }
  const refund = record.refunds?.find((r) => r.out_refund_no === refundNo)
  if (!refund || !isFinalRefund(refund.refund_status)) {
    toFix.push({
      item,
      ledger: null,
      ...(refund && { before: refund.refund_status }),
      ...(record.appid && { appid: record.appid }),
    })
    return
  }
  if (refund.refund_fee !== item.refund_fee) {
    findings.discrepancies.push({
      kind: 'refund_amount_mismatch',
      out_trade_no: no,
      out_refund_no: refundNo,
      bill,
      ledger: { refund_fee: refund.refund_fee, refund_status: refund.refund_status },
    })
  }
}

export function count(findings: Findings, record: OrderRecord): void {
  findings.ledger.payments += 1
  findings.ledger.payment_fee += record.total_fee
}

export function unchecked(item: Item | ToFix['item'], err: unknown): Discrepancy {
  const reason = err instanceof Error ? err.message : String(err)
  return {
    kind: 'unchecked',
    out_trade_no: item.out_trade_no,
    ...(item.kind === 'refund' && { out_refund_no: item.out_refund_no }),
    bill: null,
    ledger: null,
    reason: reason.slice(0, 300),
  }
}

async function inTurns<T>(list: T[], work: (entry: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < list.length; i += PARALLEL) await Promise.all(list.slice(i, i + PARALLEL).map(work))
}
