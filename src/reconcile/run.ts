/**
 * @module
 * Starting, joining and reading a day's run. The cron starts `reconcile-<yyyyMMdd>`; the route
 * answers the kept report, or starts (or joins) the run and waits a little for it; `refresh=1`
 * starts the next run of the day (`-2`, `-3`…). Instance ids are the single writer: creating one
 * that exists is refused with `already_exists`, and the caller then joins it, so concurrent starts
 * share one run.
 */
import { loadConfig } from '../config'
import { keys } from '../ledger/snapshot'
import type { Report } from './report'
import type { RunParams } from './workflow'

/** The id of a day's `n`th run. */
export const runId = (day: string, n = 1) => (n <= 1 ? `reconcile-${day}` : `reconcile-${day}-${n}`)

const runNumber = (id: string) => Number(/-(\d+)$/.exec(id.replace(/^reconcile-\d{8}/, ''))?.[1] ?? 1)

/** The previous Beijing day (yyyyMMdd) at `now`: WeChat publishes a day's bill the next morning. */
export function previousBeijingDay(now: number): string {
  return new Date(now + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')
}

/** Creates the run `id` of `day`, or joins it if it exists (restarting it if it failed). */
export async function startRun(env: Env, day: string, id = runId(day)): Promise<WorkflowInstance> {
  return (await openRun(env, day, id)).instance
}

async function openRun(env: Env, day: string, id: string) {
  // createBatch answers an existing id as a per-instance error (create throws it, and the runtime logs that).
  const made = await env.RECONCILIATION.createBatch({ instances: [{ id, params: { day } satisfies RunParams }] })
  const created = made.created[0]
  if (created) return { instance: created, done: false }
  const refused = made.errors.find((error) => !/already.exists/i.test(error.message))
  if (refused) throw new Error(`could not start the reconciliation ${id}: ${refused.message}`)
  const instance = await env.RECONCILIATION.get(id)
  const { status } = await instance.status()
  if (status === 'errored' || status === 'terminated') await instance.restart()
  return { instance, done: status === 'complete' }
}

export type Answer =
  | { done: true; report: Report }
  | { done: false; run: string; status: InstanceStatus['status']; progress: unknown }

/**
 * The kept report of `day`, or — with `refresh`, or none kept — the run that makes it, waited for
 * up to RECONCILIATION_WAIT_MS; a run still going is answered with its status and progress.
 */
export async function reconciliation(env: Env, day: string, refresh: boolean): Promise<Answer> {
  const kept = await env.ORDERS.get<Report>(keys.reconciliation(day), 'json')
  if (kept && !refresh) return { done: true, report: kept }
  // The run after the kept report's; one that already ended (its report since replaced) is passed over.
  let n = kept ? runNumber(kept.run ?? runId(day)) + 1 : 1
  let id = runId(day, n)
  let { instance, done } = await openRun(env, day, id)
  for (let tries = 0; done && tries < 20; tries++) {
    id = runId(day, ++n)
    ;({ instance, done } = await openRun(env, day, id))
  }
  const until = Date.now() + loadConfig(env).reconciliationWaitMs
  for (;;) {
    const { status } = await instance.status()
    if (status === 'complete') {
      const report = await env.ORDERS.get<Report>(keys.reconciliation(day), 'json')
      if (report) return { done: true, report }
    }
    if (status === 'errored' || status === 'terminated' || Date.now() >= until) {
      const progress = await env.ORDERS.get(keys.run(id, 'progress'), 'json')
      return { done: false, run: id, status, progress: progress ?? { phase: 'download' } }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
