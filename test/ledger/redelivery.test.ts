/**
 * A retry task ends when its relay is delivered, or already was: a redelivery the shop fails never
 * leaves the alarm firing for a task that cannot advance. The alarm is run by the test (runAlarm);
 * RELAY_RETRY_SCHEDULE has three steps in tests.
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { post } from '../support/api'
import { ledger, ledgerRecord, runAlarm } from '../support/ledger'
import { deliver, notification, placeOrder, SUCCESS_XML, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'

type Line = Record<string, unknown>

/** Runs the ledger's alarm until nothing is scheduled, up to `limit` runs; how many runs fired. */
async function alarmRuns(outTradeNo: string, limit = 12): Promise<number> {
  let runs = 0
  while (runs < limit && (await runAlarm(outTradeNo))) runs += 1
  return runs
}

describe('the alarm after a redelivery', () => {
  it('a redelivery the shop answers 5xx leaves no retry that cannot advance: the alarm stops', async () => {
    const logs = captureLogs()
    shop(200)
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    const down = shop(503)
    const again = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })
    expect(again.body.data).toEqual({ delivered: false, reason: 'the shop answered HTTP 503' })
    // At most the snapshot and the three retry steps; a task stuck in the past fires every time.
    expect(await alarmRuns(order.out_trade_no)).toBeLessThanOrEqual(4)
    expect(await runAlarm(order.out_trade_no)).toBe(false)
    expect(down).toHaveLength(1)
    const retries = (logs() as Line[]).filter((line) => line.event === 'relay_retry')
    expect(retries.filter((line) => line.delivered === true)).toEqual([])
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ relayed_at: expect.any(String) })
  })

  it('a retry task left for a relay the shop already has ends at its next run', async () => {
    const logs = captureLogs()
    const received = shop(200)
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toBe(SUCCESS_XML)
    await alarmRuns(order.out_trade_no)
    // What an earlier version stored after a failed redelivery: a retry of a delivered payment.
    await runInDurableObject(ledger(order.out_trade_no), async (instance) => {
      const store = (instance as unknown as { store: StoreView }).store
      store.tasks.relays = { payment: { since: Date.now() - 3600_000, k: 0 } }
      await store.persist()
    })
    expect(await alarmRuns(order.out_trade_no)).toBe(1)
    expect(received).toHaveLength(1)
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'relay_retry', relay: 'payment', delivered: true, already: true }),
    )
  })
})

type StoreView = { tasks: { relays?: Record<string, { since: number; k: number }> }; persist(): Promise<void> }
