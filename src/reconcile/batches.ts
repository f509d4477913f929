/**
 * @module
 * The checks of a list of items as Workflow steps: per batch, `look-<n>` then `fix-<n>`, each
 * retried by the platform. Shared by the day's run (few differences) and its child batches (many).
 */
import type { WorkflowStep } from 'cloudflare:workers'
import { loadConfig } from '../config'
import { fix, look } from './check'
import type { Item } from './diff'
import { addMeter, type Meter, metered, meteredClient, newMeter } from './meter'
import { addFindings, type Findings, noFindings } from './report'

export type Sizes = {
  /** Items per look/fix step. */
  step: number
  /** Up to this many items the run checks them itself; beyond, child instances do. */
  inline: number
  /** Items per child instance: three calls an item at most keeps each under 1,000 subrequests. */
  child: number
  /** Child instances running at once. */
  wave: number
}

export const SIZES: Sizes = { step: 50, inline: 100, child: 250, wave: 8 }

export const RETRIES = {
  retries: { limit: 5, delay: '2 seconds', backoff: 'exponential' },
  timeout: '10 minutes',
} as const

/** Checks `items` in steps named `<prefix>look-<n>` and `<prefix>fix-<n>`; answers the findings and the subrequests made. */
export async function checkItems(
  step: WorkflowStep,
  env: Env,
  day: string,
  items: Item[],
  sizes: Sizes,
): Promise<{ findings: Findings; meter: Meter }> {
  const findings = noFindings()
  const meter = newMeter()
  for (let at = 0, n = 0; at < items.length; at += sizes.step, n++) {
    const batch = items.slice(at, at + sizes.step)
    const looked = await step.do(`look-${n}`, RETRIES, async () => {
      const counted = newMeter()
      return { ...(await look(metered(env, counted), day, batch)), meter: counted }
    })
    addMeter(meter, looked.meter)
    addFindings(findings, looked.findings)
    if (looked.toFix.length === 0) continue
    const fixed = await step.do(`fix-${n}`, RETRIES, async () => {
      const counted = newMeter()
      const counting = metered(env, counted)
      const wechat = meteredClient(loadConfig(env), counted, counting.ORDERS)
      return { findings: await fix(counting, wechat, day, looked.toFix), meter: counted }
    })
    addMeter(meter, fixed.meter)
    addFindings(findings, fixed.findings)
  }
  return { findings, meter }
}
