/**
 * @module
 * The daily reconciliation as a Cloudflare Workflow, one instance per run (`reconcile-<yyyyMMdd>`,
 * see run.ts). Steps: `download and diff` (streamed; only differences leave it), the checks of the
 * differences (in this instance when few, else in child {@link ReconciliationBatch} instances of
 * 250 items, a wave at a time), then `report`. Every step is retried by the platform and kept
 * once done, so a run that dies between steps goes on where it stopped. Step results stay small:
 * the differences of a busy day wait in KV as chunks (`reconciliation-run:<instance>:items:<n>`).
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers'
import { loadConfig } from '../config'
import { keys } from '../ledger/snapshot'
import { checkItems, RETRIES, SIZES, type Sizes } from './batches'
import { childId, collect, doneChunks, progress, settleFailed, WORK_TTL } from './chunks'
import { diffDay, type Item } from './diff'
import { addMeter, type Meter, metered, meteredClient, newMeter } from './meter'
import { addFindings, logReport, noFindings, type Report } from './report'

export type RunParams = { day: string; sizes?: Partial<Sizes> }
export type BatchParams = { day: string; run: string; chunk: number; sizes?: Partial<Sizes> }

/** What a run answers (the report itself is in KV: it can be larger than a step result may be). */
export type RunOutput = {
  run: string
  bill: Report['bill']
  items: number
  children: number
  discrepancies: number
  fixed: number
  relay_failed: number
  /** Subrequests this instance made (its children count their own). */
  meter: Meter
}

export class Reconciliation extends WorkflowEntrypoint<Env, RunParams> {
  override async run(event: WorkflowEvent<RunParams>, step: WorkflowStep): Promise<RunOutput> {
    const { day } = event.payload
    const run = event.instanceId
    const sizes = { ...SIZES, ...event.payload.sizes }
    const diff = await step.do('download and diff', RETRIES, async () => {
      const meter = newMeter()
      const env = metered(this.env, meter)
      const found = await diffDay(env.ORDERS, meteredClient(loadConfig(env), meter, env.ORDERS), day)
      const inline = found.items.length <= sizes.inline
      const chunks = inline ? 0 : Math.ceil(found.items.length / sizes.child)
      for (let n = 0; n < chunks; n++) {
        const part = found.items.slice(n * sizes.child, (n + 1) * sizes.child)
        await env.ORDERS.put(keys.run(run, `items:${n}`), JSON.stringify(part), { expirationTtl: WORK_TTL })
      }
      await progress(env, run, { phase: 'check', items: found.items.length, chunks, done: 0 })
      return {
        bill: found.bill,
        totals: found.totals,
        malformed: found.malformed.slice(0, 1000),
        items: inline ? found.items : [],
        count: found.items.length,
        chunks,
        meter,
      }
    })
    const used = { ...diff.meter }
    const findings = noFindings()
    if (diff.chunks === 0) {
      const checked = await checkItems(step, this.env, day, diff.items, sizes)
      addFindings(findings, checked.findings)
      addMeter(used, checked.meter)
    } else {
      addMeter(used, await this.fanOut(step, run, day, diff.chunks, sizes))
    }
    return await step.do('report', RETRIES, async () => {
      const meter = newMeter()
      const env = metered(this.env, meter)
      if (diff.chunks > 0) addFindings(findings, await collect(env, run, diff.chunks))
      const report: Report = {
        bill_date: day,
        generated_at: new Date().toISOString(),
        run,
        bill: diff.bill,
        totals: {
          bill: diff.totals.bill,
          ledger: {
            payments: diff.totals.ledger.payments + findings.ledger.payments,
            payment_fee: diff.totals.ledger.payment_fee + findings.ledger.payment_fee,
          },
        },
        discrepancies: findings.discrepancies,
        fixed: findings.fixed,
        relay_failed: findings.relay_failed,
        malformed: diff.malformed,
      }
      await env.ORDERS.put(keys.reconciliation(day), JSON.stringify(report))
      await progress(env, run, { phase: 'done', items: diff.count, chunks: diff.chunks, done: diff.chunks })
      logReport(report)
      return {
        run,
        bill: report.bill,
        items: diff.count,
        children: diff.chunks,
        discrepancies: report.discrepancies.length,
        fixed: report.fixed.length,
        relay_failed: report.relay_failed.length,
        meter: addMeter({ ...used }, meter),
      }
    })
  }

  /** Runs the child instances a wave at a time and waits for each wave's results; answers the calls made. */
  private async fanOut(step: WorkflowStep, run: string, day: string, chunks: number, sizes: Sizes): Promise<Meter> {
    const used = newMeter()
    let polls = 0
    for (let first = 0; first < chunks; first += sizes.wave) {
      const last = Math.min(chunks, first + sizes.wave)
      const spawned = await step.do(`spawn-${first}`, RETRIES, async () => {
        const meter = newMeter()
        const env = metered(this.env, meter)
        const instances = []
        for (let chunk = first; chunk < last; chunk++) {
          instances.push({ id: childId(run, chunk), params: { day, run, chunk, sizes } satisfies BatchParams })
        }
        // A retried spawn finds some already made: those are the ones it wanted.
        const made = await env.RECONCILIATION_BATCH.createBatch({ instances })
        const failed = made.errors.filter((error) => !/already.exists/i.test(error.message))
        if (failed.length > 0) throw new Error(`could not start batches: ${failed[0]?.message}`)
        return { meter }
      })
      addMeter(used, spawned.meter)
      for (;;) {
        await step.sleep(`wait-${polls}`, '2 seconds')
        const poll = await step.do(`poll-${polls}`, RETRIES, async () => {
          const meter = newMeter()
          const env = metered(this.env, meter)
          const done = await doneChunks(env, run)
          // Every 15 polls, a child that failed for good is looked for: its items become `unchecked`.
          if (polls % 15 === 14) await settleFailed(env, run, first, last, done)
          const finished = (await doneChunks(env, run)).size
          await progress(env, run, { phase: 'check', items: 0, chunks, done: finished })
          return { finished, meter }
        })
        polls += 1
        addMeter(used, poll.meter)
        if (poll.finished >= last) break
      }
    }
    return used
  }
}

/** One chunk of a busy day's differences, checked in steps; its findings are kept for the run's report. */
export class ReconciliationBatch extends WorkflowEntrypoint<Env, BatchParams> {
  override async run(event: WorkflowEvent<BatchParams>, step: WorkflowStep): Promise<{ meter: Meter }> {
    const { day, run, chunk } = event.payload
    const sizes = { ...SIZES, ...event.payload.sizes }
    const read = await step.do('read', RETRIES, async () => {
      const items = await this.env.ORDERS.get<Item[]>(keys.run(run, `items:${chunk}`), 'json')
      return { items: items ?? [], meter: { calls: 1, kv: 1, ledger: 0 } }
    })
    const checked = await checkItems(step, this.env, day, read.items, sizes)
    const kept = await step.do('keep', RETRIES, async () => {
      await this.env.ORDERS.put(keys.run(run, `done:${chunk}`), JSON.stringify(checked.findings), {
        expirationTtl: WORK_TTL,
      })
      return { meter: { calls: 1, kv: 1, ledger: 0 } }
    })
    return { meter: addMeter(addMeter({ ...read.meter }, checked.meter), kept.meter) }
  }
}
