/**
 * @module
 * `fix`'s two confirmations: a payment with orderquery, a refund with refundquery, each learned by
 * the order's ledger (which checks the reply against what was asked) and reported.
 */
import { PayError } from '../errors'
import type { OrderRecord } from '../ledger/record'
import { ledgerOf, unwrap } from '../ledger/stub'
import type { Client } from '../wechat/client'
import { count, type ToFix } from './check'
import type { Item } from './diff'
import { type Findings, paymentOf } from './report'

export async function fixPayment(
  env: Env,
  wechat: Client,
  day: string,
  entry: ToFix,
  item: Extract<Item, { kind: 'payment' }>,
  findings: Findings,
): Promise<void> {
  const no = item.out_trade_no
  const bill = { transaction_id: item.transaction_id, total_fee: item.total_fee, trade_state: 'SUCCESS' }
  const record = await confirmed(async () => {
    const reply = await wechat.call('/pay/orderquery', { out_trade_no: no, ...(entry.appid && { appid: entry.appid }) })
    return unwrap(await ledgerOf(env, no).learnQuery(no, { ...reply }))
  })
  if (!record?.payment) {
    const ledger = record === undefined ? entry.ledger : paymentOf(record)
    findings.discrepancies.push({ kind: 'payment_not_recorded', out_trade_no: no, bill, ledger })
    return
  }
  findings.fixed.push({ kind: 'payment_recorded', out_trade_no: no })
  if (!item.counted && record.payment.time_end.slice(0, 8) === day) count(findings, record)
  if (record.transaction_id !== item.transaction_id)
    findings.discrepancies.push({ kind: 'transaction_mismatch', out_trade_no: no, bill, ledger: paymentOf(record) })
}

export async function fixRefund(
  env: Env,
  wechat: Client,
  entry: ToFix,
  item: Extract<Item, { kind: 'refund' }>,
  findings: Findings,
): Promise<void> {
  const no = item.out_trade_no
  const refundNo = item.out_refund_no
  const bill = { out_refund_no: refundNo, refund_fee: item.refund_fee, refund_status: item.refund_status }
  const record = await confirmed(async () => {
    const reply = await wechat.call('/pay/refundquery', {
      out_refund_no: refundNo,
      ...(entry.appid && { appid: entry.appid }),
    })
    return unwrap(await ledgerOf(env, no).learnRefunds(no, { ...reply }))
  })
  const refund = record?.refunds?.find((r) => r.out_refund_no === refundNo)
  if (refund && refund.refund_status !== entry.before) {
    findings.fixed.push({ kind: 'refund_recorded', out_trade_no: no, out_refund_no: refundNo })
  }
  if (!refund) {
    findings.discrepancies.push({
      kind: 'refund_not_recorded',
      out_trade_no: no,
      out_refund_no: refundNo,
      bill,
      ledger: null,
    })
  } else if (refund.refund_fee !== item.refund_fee) {
    findings.discrepancies.push({
      kind: 'refund_amount_mismatch',
      out_trade_no: no,
      out_refund_no: refundNo,
      bill,
      ledger: { refund_fee: refund.refund_fee, refund_status: refund.refund_status },
    })
  }
}

/**
 * The record after a confirmation; `undefined` when WeChat (or the ledger) refused with a PayError:
 * the ledger is then as it was, which the report says. Anything else is thrown (→ `unchecked`).
 */
async function confirmed(step: () => Promise<OrderRecord | null>): Promise<OrderRecord | null | undefined> {
  try {
    return await step()
  } catch (err) {
    if (err instanceof PayError && err.failure.kind !== 'internal') return undefined
    throw err
  }
}
