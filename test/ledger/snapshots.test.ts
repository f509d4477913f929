/**
 * The KV snapshot writer: index keys are stored in the ledger before KV has them, so none can be
 * orphaned by a stop between the KV writes and storing the tasks; failed writes back off. The tests
 * reach the writer's KV binding (through runInDurableObject) to watch or fail its writes.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { backoff } from '../../src/ledger/snapshot-writer'
import { ledger, ledgerRecord, runAlarm, snapshot, snapshotCaughtUp } from '../support/ledger'
import { deliver, notification, placeOrder, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'

type Tasks = { snapshot?: number; snapshotFailures?: number; indexed?: string[] }
type Writer = { kv: KVNamespace }

/** Puts the writer of `outTradeNo`'s ledger onto `kv` (made from the real binding); returns how to undo it. */
async function writerKv(outTradeNo: string, make: (real: KVNamespace, storage: DurableObjectStorage) => KVNamespace) {
  await runInDurableObject(ledger(outTradeNo), (instance, state) => {
    const writer = (instance as unknown as { store: { snapshots: Writer } }).store.snapshots
    writer.kv = make(env.ORDERS, state.storage)
  })
  return () =>
    runInDurableObject(ledger(outTradeNo), (instance) => {
      ;(instance as unknown as { store: { snapshots: Writer } }).store.snapshots.kv = env.ORDERS
    })
}

const storedTasks = (outTradeNo: string) =>
  runInDurableObject(ledger(outTradeNo), async (_instance, state) => (await state.storage.get<Tasks>('tasks')) ?? {})

describe('index keys', () => {
  it('every index key is stored in the ledger’s tasks before KV has it, so a stop in between orphans none', async () => {
    captureLogs()
    shop(503)
    const order = await placeOrder()
    await deliver(await notification(order))
    const puts: { key: string; known: boolean }[] = []
    await writerKv(order.out_trade_no, (real, storage) => {
      const watched = Object.create(real) as KVNamespace
      watched.put = (async (key: string, ...rest: unknown[]) => {
        if (!key.startsWith('order:')) {
          const tasks = (await storage.get<Tasks>('tasks')) ?? {}
          puts.push({ key, known: tasks.indexed?.includes(key) ?? false })
        }
        return (real.put as (...args: unknown[]) => Promise<void>).call(real, key, ...rest)
      }) as KVNamespace['put']
      return watched
    })
    // The relay schedule is spent: the order goes under relay-failed:<day spent>:<no>.
    for (let i = 0; i < 8; i++) await runAlarm(order.out_trade_no)
    expect((await ledgerRecord(order.out_trade_no))?.relay_failed_at).toBeDefined()
    const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')
    expect(puts).toContainEqual({ key: `relay-failed:${day}:${order.out_trade_no}`, known: true })
    expect(puts.filter((put) => !put.known)).toEqual([])
    expect(await env.ORDERS.get(`relay-failed:${day}:${order.out_trade_no}`)).toBe('')
  })
})

describe('failed snapshot writes', () => {
  it('back off (1 s, 2 s, 4 s … up to 5 min) instead of retrying every second, then catch up', () => {
    expect([1, 2, 3, 4, 9, 10, 100].map(backoff)).toEqual([1000, 2000, 4000, 8000, 256_000, 300_000, 300_000])
  })

  it('KV failing: each failure is logged and the next write waits longer; once KV is back the snapshot catches up', async () => {
    const logs = captureLogs()
    shop()
    const order = await placeOrder()
    await snapshotCaughtUp(order.out_trade_no)
    const restore = await writerKv(order.out_trade_no, (real) => {
      const failing = Object.create(real) as KVNamespace
      failing.put = (() => Promise.reject(new Error('KV unavailable'))) as KVNamespace['put']
      return failing
    })
    await deliver(await notification(order))
    for (let i = 0; i < 3; i++) await runAlarm(order.out_trade_no)
    const tasks = await storedTasks(order.out_trade_no)
    expect(tasks.snapshotFailures).toBeGreaterThanOrEqual(3)
    // After three failures in a row the next write is at least 4 s after the last (not 1 s).
    expect((tasks.snapshot as number) - Date.now()).toBeGreaterThan(2000)
    const failures = (logs() as Record<string, unknown>[]).filter((line) => line.event === 'snapshot_write_failed')
    expect(failures.map((line) => line.failures).slice(0, 3)).toEqual([1, 2, 3])

    await restore()
    await runAlarm(order.out_trade_no)
    await snapshotCaughtUp(order.out_trade_no)
    expect((await snapshot(order.out_trade_no)).metadata).toMatchObject({ trade_state: 'SUCCESS', relayed: true })
    expect((await storedTasks(order.out_trade_no)).snapshotFailures).toBeUndefined()
  })
})
