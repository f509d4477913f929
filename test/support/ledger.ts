/** Reading an order's ledger (the Durable Object) and its KV snapshot, as an operator would. */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, vi } from 'vitest'
import type { OrderRecord } from '../../src/ledger/record'

export function ledger(outTradeNo: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(outTradeNo))
}

/** The order as its ledger holds it: the truth, never stale. */
export async function ledgerRecord(outTradeNo: string): Promise<OrderRecord | null> {
  const result = await ledger(outTradeNo).get(outTradeNo)
  if (!result.ok) throw new Error(result.failure.message)
  return result.value
}

/** The KV snapshot of the order, and its list() metadata. */
export async function snapshot(outTradeNo: string) {
  const { value, metadata } = await env.ORDERS.getWithMetadata<Record<string, unknown>>(`order:${outTradeNo}`, 'json')
  return { value, metadata }
}

/** Waits until the KV snapshot (written in the background, at most once a second) shows the ledger's record. */
export async function snapshotCaughtUp(outTradeNo: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const record = await ledgerRecord(outTradeNo)
      if (record) expect((await snapshot(outTradeNo)).value).toEqual(JSON.parse(JSON.stringify(record)))
    },
    { timeout: 15_000, interval: 20 },
  )
}

/**
 * Waits for the ledger's background work in flight (the KV snapshot write), then runs its alarm
 * now, as if its earliest task were due; false when nothing was scheduled but the retention (due
 * months away: {@link runRetention} runs it).
 */
export async function runAlarm(outTradeNo: string): Promise<boolean> {
  const stub = ledger(outTradeNo)
  // The instance's store is private to the class; the test reaches it to wait, never to change it.
  const onlyRetention = await runInDurableObject(stub, async (instance, state) => {
    const { store } = instance as unknown as Quiet
    await store.snapshots.writing
    const at = await state.storage.getAlarm()
    return at !== null && at === store.tasks.retention
  })
  if (onlyRetention) return false
  return runDurableObjectAlarm(stub)
}

/**
 * Runs the ledger's alarm as if its retention period were over: the retention task is made due
 * now (what the clock would do), every other task keeps its time. False when nothing was scheduled.
 */
export async function runRetention(outTradeNo: string): Promise<boolean> {
  const stub = ledger(outTradeNo)
  const scheduled = await runInDurableObject(stub, async (instance) => {
    const { store } = instance as unknown as Quiet
    await store.load(outTradeNo)
    await store.snapshots.writing
    if (store.tasks.retention === undefined) return false
    store.tasks.retention = Date.now() - 1
    await store.persist()
    return true
  })
  return scheduled && runDurableObjectAlarm(stub)
}

type Quiet = {
  store: {
    snapshots: { writing: Promise<void> | undefined }
    tasks: { retention?: number }
    load(outTradeNo: string): Promise<unknown>
    persist(): Promise<void>
  }
}
