/**
 * @module
 * A busy day's work in KV while its child batches run: the differences in chunks, each chunk's
 * findings once checked, the run's progress. Every key expires after a week, so nothing is deleted
 * one key at a time.
 */
import { keys } from '../ledger/snapshot'
import type { Item } from './diff'
import { addFindings, type Findings, noFindings } from './report'

export const WORK_TTL = 7 * 86_400

export const childId = (run: string, chunk: number) => `${run}-b${chunk}`

export type Progress = { phase: 'check' | 'done'; items: number; chunks: number; done: number }

export async function progress(env: Env, run: string, value: Progress): Promise<void> {
  await env.ORDERS.put(keys.run(run, 'progress'), JSON.stringify(value), { expirationTtl: WORK_TTL })
}

/** The chunks whose findings are kept (one list page per 1,000 chunks). */
export async function doneChunks(env: Env, run: string): Promise<Set<number>> {
  const prefix = keys.run(run, 'done:')
  const out = new Set<number>()
  let cursor: string | undefined
  for (;;) {
    const page = await env.ORDERS.list({ prefix, ...(cursor && { cursor }) })
    for (const key of page.keys) out.add(Number(key.name.slice(prefix.length)))
    if (page.list_complete) return out
    cursor = page.cursor
  }
}

/** Keeps, for each child of the wave that ended without its findings, its items as `unchecked`. */
export async function settleFailed(
  env: Env,
  run: string,
  first: number,
  last: number,
  done: Set<number>,
): Promise<void> {
  for (let chunk = first; chunk < last; chunk++) {
    if (done.has(chunk)) continue
    const status = await (await env.RECONCILIATION_BATCH.get(childId(run, chunk))).status()
    if (status.status !== 'errored' && status.status !== 'terminated') continue
    const items = (await env.ORDERS.get<Item[]>(keys.run(run, `items:${chunk}`), 'json')) ?? []
    const findings = noFindings()
    const reason = `its batch ${childId(run, chunk)} ${status.status}: ${status.error?.message ?? 'no error'}`.slice(
      0,
      300,
    )
    for (const item of items) {
      findings.discrepancies.push({
        kind: 'unchecked',
        out_trade_no: item.out_trade_no,
        ...(item.kind === 'refund' && { out_refund_no: item.out_refund_no }),
        bill: null,
        ledger: null,
        reason,
      })
    }
    await env.ORDERS.put(keys.run(run, `done:${chunk}`), JSON.stringify(findings), { expirationTtl: WORK_TTL })
  }
}

/** Every chunk's findings, read 100 keys at a time. */
export async function collect(env: Env, run: string, chunks: number): Promise<Findings> {
  const findings = noFindings()
  for (let first = 0; first < chunks; first += 100) {
    const names = Array.from({ length: Math.min(100, chunks - first) }, (_, i) => keys.run(run, `done:${first + i}`))
    const found = await env.ORDERS.get<Findings>(names, 'json')
    for (const part of found.values()) if (part) addFindings(findings, part)
  }
  return findings
}
