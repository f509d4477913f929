/**
 * @module
 * A ledger's timed work, kept in its storage and driven by its one Durable Object alarm: the next
 * KV snapshot (KV takes one write a second per key), the next relay retry, the next self-check,
 * and the archiving of the order's storage once it can no longer change (retention.ts).
 * The alarm is always set to the earliest due task; when it fires, every task due by then runs.
 */
import type { Config } from '../config'

export type Tasks = {
  /** When the coalesced KV snapshot is due (ms). */
  snapshot?: number
  /** Failed snapshot writes in a row (the next one backs off accordingly). */
  snapshotFailures?: number
  /** Relay retry schedules, per relay (`payment` or `refund:<out_refund_no>`): offsets count from `since`; `k` is the next retry's index. */
  relays?: Record<string, { since: number; k: number }>
  /** The self-check schedule (offsets from placement); `k` is the next check's index. */
  check?: { since: number; k: number }
  /** The KV index keys the order's snapshot is listed under (see snapshot.ts). */
  indexed?: string[]
  /**
   * The refund self-check schedule, per out_refund_no (offsets from the refund's request);
   * `missing` counts the checks WeChat answered REFUNDNOTEXIST.
   */
  refunds?: Record<string, { since: number; k: number; missing?: number }>
  /** When the order's storage is archived (ms), unless work is still in flight then (retention.ts). */
  retention?: number
}

export type Schedules = { relay: readonly number[]; check: readonly number[]; refund: readonly number[] }

type Due =
  | { task: 'snapshot' }
  | { task: 'relay'; key: string }
  | { task: 'check' }
  | { task: 'refund'; outRefundNo: string }
  | { task: 'retention' }

/** When each task is due (ms), given the schedules; a schedule that is spent has no due time. */
export function dueTimes(tasks: Tasks, schedules: Schedules): { due: Due; at: number }[] {
  const out: { due: Due; at: number }[] = []
  if (tasks.snapshot !== undefined) out.push({ due: { task: 'snapshot' }, at: tasks.snapshot })
  const at = (entry: { since: number; k: number }, schedule: readonly number[]) =>
    entry.k < schedule.length ? entry.since + (schedule[entry.k] as number) * 1000 : undefined
  for (const [key, entry] of Object.entries(tasks.relays ?? {})) {
    const relayAt = at(entry, schedules.relay)
    if (relayAt !== undefined) out.push({ due: { task: 'relay', key }, at: relayAt })
  }
  const checkAt = tasks.check && at(tasks.check, schedules.check)
  if (checkAt !== undefined) out.push({ due: { task: 'check' }, at: checkAt })
  for (const [outRefundNo, entry] of Object.entries(tasks.refunds ?? {})) {
    const refundAt = at(entry, schedules.refund)
    if (refundAt !== undefined) out.push({ due: { task: 'refund', outRefundNo }, at: refundAt })
  }
  if (tasks.retention !== undefined) out.push({ due: { task: 'retention' }, at: tasks.retention })
  return out.sort((a, b) => a.at - b.at)
}

/** The earliest due time, or `null` when nothing is scheduled. */
export function nextAlarm(tasks: Tasks, schedules: Schedules): number | null {
  return dueTimes(tasks, schedules)[0]?.at ?? null
}

/** The relay key of the order's payment; a refund's is {@link refundKey}. */
export const PAYMENT = 'payment'
export const refundKey = (outRefundNo: string) => `refund:${outRefundNo}`
/** The out_refund_no of a refund's relay key. */
export const refundNoOf = (key: string) => key.slice('refund:'.length)

/** Schedules a relay retry, unless one is scheduled already (its schedule keeps counting from then). */
export function scheduleRelay(tasks: Tasks, key: string): void {
  const relays = { ...tasks.relays }
  relays[key] ??= { since: Date.now(), k: 0 }
  tasks.relays = relays
}

/** Ends a relay's retry schedule (delivered, or spent). */
export function endRelay(tasks: Tasks, key: string): void {
  if (tasks.relays) delete tasks.relays[key]
}

/** Starts a refund's self-check schedule, counted from now. */
export function startRefundCheck(tasks: Tasks, outRefundNo: string): void {
  tasks.refunds = { ...tasks.refunds, [outRefundNo]: { since: Date.now(), k: 0 } }
}

/** Ends a refund's self-check schedule (settled, given up, or the refund dropped). */
export function stopRefundCheck(tasks: Tasks, outRefundNo: string): void {
  if (tasks.refunds) delete tasks.refunds[outRefundNo]
}

/** The retry schedules the configuration sets. */
export function schedules(config: Config): Schedules {
  return { relay: config.relayRetrySchedule, check: config.recoverySchedule, refund: config.refundCheckSchedule }
}
