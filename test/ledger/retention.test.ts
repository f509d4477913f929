/**
 * A ledger's storage is archived once its order can no longer change, and a late event for the
 * order is served from the archive. The retention task is run by the test (runRetention: the task
 * made due now, as the clock would); LEDGER_RETENTION_DAYS and UNPAID_RETENTION_DAYS keep their
 * defaults (400 and 30 days).
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { orderNo, post } from '../support/api'
import { ledger, ledgerRecord, runAlarm, runRetention, snapshot, snapshotCaughtUp } from '../support/ledger'
import { deliver, notification, placeOrder, SUCCESS_XML, shop } from '../support/payments'
import { completeRefund, countRefundCalls, paidOrder } from '../support/refunds'
import { captureLogs } from '../support/secrets'

const DAY_MS = 86_400_000

/** What the ledger's storage holds: its keys, their size in SQLite, and the alarm. */
async function storage(outTradeNo: string) {
  return runInDurableObject(ledger(outTradeNo), async (_instance, state) => ({
    keys: [...(await state.storage.list()).keys()],
    bytes: state.storage.sql.databaseSize,
    alarm: await state.storage.getAlarm(),
    retention: (await state.storage.get<{ retention?: number }>('tasks'))?.retention,
  }))
}

/** Runs every task due but the retention, then waits for the KV snapshot. */
async function settle(outTradeNo: string): Promise<void> {
  for (let runs = 0; runs < 12 && (await runAlarm(outTradeNo)); runs++) {}
  await snapshotCaughtUp(outTradeNo)
}

describe('a settled order’s ledger storage is archived and deleted', () => {
  it('a paid order: the record stays in KV, the storage and the alarm are gone, and a read brings nothing back', async () => {
    const logs = captureLogs()
    const order = await paidOrder()
    await settle(order.out_trade_no)
    const before = await storage(order.out_trade_no)
    expect(before.keys).toEqual(['record', 'tasks'])
    // Paid: LEDGER_RETENTION_DAYS (400) after the last change.
    expect(before.retention).toBeGreaterThan(Date.now() + 399 * DAY_MS)
    const record = await ledgerRecord(order.out_trade_no)

    expect(await runRetention(order.out_trade_no)).toBe(true)
    const after = await storage(order.out_trade_no)
    expect(after.keys).toEqual([])
    expect(after.alarm).toBeNull()
    // 12,288 bytes of SQLite before; what workerd reports for the emptied database after (one page).
    expect(after.bytes).toBeLessThan(before.bytes)
    const kv = await snapshot(order.out_trade_no)
    expect(kv.value).toEqual(JSON.parse(JSON.stringify(record)))
    expect(kv.metadata).toMatchObject({ trade_state: 'SUCCESS', relayed: true, archived_at: expect.any(String) })
    expect(logs()).toContainEqual({
      event: 'ledger_archived',
      out_trade_no: order.out_trade_no,
      trade_state: 'SUCCESS',
    })

    // Read from the archive, without storing anything again.
    expect(await ledgerRecord(order.out_trade_no)).toEqual(record)
    const query = await post('/v1/pay/queryOrder', { out_trade_no: order.out_trade_no })
    expect(query.body.data).toMatchObject({ trade_state: 'SUCCESS', transaction_id: order.transaction_id })
    expect((await storage(order.out_trade_no)).keys).toEqual([])
  })

  it('an order never paid: archived after UNPAID_RETENTION_DAYS; a late payment is then recorded and relayed once', async () => {
    const logs = captureLogs()
    const received = shop()
    const order = await placeOrder()
    expect((await storage(order.out_trade_no)).retention).toBeLessThan(Date.now() + 31 * DAY_MS)
    // Its self-checks first: while they are scheduled, the order may still change.
    expect(await runRetention(order.out_trade_no)).toBe(true)
    expect((await storage(order.out_trade_no)).keys).toEqual(['record', 'tasks'])
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'retention_postponed', work: 'check' }))
    await settle(order.out_trade_no)
    expect(await runRetention(order.out_trade_no)).toBe(true)
    expect((await storage(order.out_trade_no)).keys).toEqual([])

    const message = await notification(order)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(received).toHaveLength(1)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      relayed_at: expect.any(String),
    })
    const stored = await storage(order.out_trade_no)
    expect(stored.keys).toEqual(['record', 'tasks'])
    expect(stored.retention).toBeGreaterThan(Date.now() + 399 * DAY_MS)
    expect(logs()).toContainEqual({ event: 'record_restored', out_trade_no: order.out_trade_no, trade_state: 'NOTPAY' })
  })
})

describe('work in flight postpones the archiving', () => {
  it('a refund WeChat is still processing: postponed; once it is final and relayed, archived', async () => {
    const logs = captureLogs()
    const order = await paidOrder()
    const out_refund_no = orderNo('R')
    const asked = await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 40 })
    expect(asked.body.data.refund_status).toBe('PROCESSING')
    await snapshotCaughtUp(order.out_trade_no)

    expect(await runRetention(order.out_trade_no)).toBe(true)
    const postponed = await storage(order.out_trade_no)
    expect(postponed.keys).toEqual(['record', 'tasks'])
    expect(postponed.retention).toBeGreaterThan(Date.now() + 399 * DAY_MS)
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'retention_postponed', out_trade_no: order.out_trade_no, work: 'refund' }),
    )

    await completeRefund(out_refund_no)
    await vi.waitFor(() => expect(order.relays).toHaveLength(1))
    await settle(order.out_trade_no)
    expect(await runRetention(order.out_trade_no)).toBe(true)
    expect((await storage(order.out_trade_no)).keys).toEqual([])
  })

  it('a payment the shop has not received (its retries spent): postponed until a redelivery gets through', async () => {
    const logs = captureLogs()
    shop(503)
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toContain('FAIL')
    await settle(order.out_trade_no)
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({ relay_failed_at: expect.any(String) })

    expect(await runRetention(order.out_trade_no)).toBe(true)
    expect((await storage(order.out_trade_no)).keys).toEqual(['record', 'tasks'])
    expect(logs()).toContainEqual(
      expect.objectContaining({ event: 'retention_postponed', out_trade_no: order.out_trade_no, work: 'relay' }),
    )

    const received = shop(200)
    const again = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })
    expect(again.body.data).toEqual({ delivered: true, status: 200 })
    await settle(order.out_trade_no)
    expect(await runRetention(order.out_trade_no)).toBe(true)
    expect((await storage(order.out_trade_no)).keys).toEqual([])
    expect(received).toHaveLength(1)
  })
  it('a redelivery starts the retention period again', async () => {
    const order = await paidOrder()
    await settle(order.out_trade_no)
    const before = (await storage(order.out_trade_no)).retention as number
    await new Promise((resolve) => setTimeout(resolve, 5))
    const again = await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })
    expect(again.body.data).toEqual({ delivered: true, status: 200 })
    expect((await storage(order.out_trade_no)).retention).toBeGreaterThan(before)
    expect(order.relays).toHaveLength(1)
  })
})

describe('a late event for an archived order', () => {
  it('a refund requested a year on: adopted from the archive, asked once, confirmed and relayed once', async () => {
    const logs = captureLogs()
    const order = await paidOrder(100)
    await settle(order.out_trade_no)
    expect(await runRetention(order.out_trade_no)).toBe(true)
    expect((await storage(order.out_trade_no)).keys).toEqual([])

    const calls = countRefundCalls()
    const out_refund_no = orderNo('R')
    const fields = { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 60 }
    const [first, second] = await Promise.all([post('/v1/pay/refund', fields), post('/v1/pay/refund', fields)])
    expect([first.status, second.status]).toEqual([200, 200])
    expect(first.body.data).toMatchObject({ refund_status: 'PROCESSING', total_fee: 100 })
    expect(calls).toHaveLength(1)
    // The order's money is still held against what was paid: 60 + 50 > 100.
    const over = await post('/v1/pay/refund', { ...fields, out_refund_no: orderNo('R'), refund_fee: 50 })
    expect(over.body.error.code).toBe('wxPayError.refundTooLarge')

    await completeRefund(out_refund_no)
    await vi.waitFor(() => expect(order.relays).toHaveLength(1))
    await settle(order.out_trade_no)
    expect(order.relays).toHaveLength(1)
    expect(JSON.parse(order.relays[0]?.body as string)).toMatchObject({
      type: 'refund',
      data: { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 60, refund_status: 'SUCCESS' },
    })
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
      trade_state: 'REFUND',
      transaction_id: order.transaction_id,
      refunds: [expect.objectContaining({ out_refund_no, refund_status: 'SUCCESS', relayed_at: expect.any(String) })],
    })
    expect((await storage(order.out_trade_no)).keys).toEqual(['record', 'tasks'])
    expect((await snapshot(order.out_trade_no)).metadata).not.toHaveProperty('archived_at')
    expect(logs()).toContainEqual({
      event: 'record_restored',
      out_trade_no: order.out_trade_no,
      trade_state: 'SUCCESS',
    })
  })

  it('a v2 snapshot not marked archived, with the storage empty, is never guessed at', async () => {
    const logs = captureLogs()
    const order = await paidOrder()
    await snapshotCaughtUp(order.out_trade_no)
    const { value } = await snapshot(order.out_trade_no)
    const no = orderNo('LOST')
    await env.ORDERS.put(`order:${no}`, JSON.stringify({ ...value, out_trade_no: no }))
    await expect(ledgerRecord(no)).rejects.toThrow(`the KV record of order ${no} is not a v1 record`)
    expect(logs()).toContainEqual({ event: 'record_unreadable', out_trade_no: no })
  })
})

describe('LEDGER_RETENTION_DAYS and UNPAID_RETENTION_DAYS', () => {
  it.each([
    ['LEDGER_RETENTION_DAYS', '365', 'LEDGER_RETENTION_DAYS must be a whole number of days from 367 to 36500'],
    ['LEDGER_RETENTION_DAYS', '400.5', 'LEDGER_RETENTION_DAYS must be a whole number of days from 367 to 36500'],
    ['LEDGER_RETENTION_DAYS', 'a year', 'LEDGER_RETENTION_DAYS must be a whole number of days from 367 to 36500'],
    ['UNPAID_RETENTION_DAYS', '1', 'UNPAID_RETENTION_DAYS must be a whole number of days from 2 to 36500'],
    ['UNPAID_RETENTION_DAYS', '0.5', 'UNPAID_RETENTION_DAYS must be a whole number of days from 2 to 36500'],
    ['UNPAID_RETENTION_DAYS', '36501', 'UNPAID_RETENTION_DAYS must be a whole number of days from 2 to 36500'],
  ])('%s=%s → 500 wxPayError.config naming the rule', async (name, value, message) => {
    const logs = captureLogs()
    const reply = await post(
      '/v1/pay/queryOrder',
      { out_trade_no: orderNo() },
      {
        env: { [name]: value } as Partial<Env>,
      },
    )
    expect(reply.status).toBe(500)
    expect(reply.body).toEqual({ error: { code: 'wxPayError.config', message } })
    expect(logs()).toEqual([expect.objectContaining({ kind: 'config', error: message })])
  })

  it('whole days within the rules are taken', async () => {
    const reply = await post(
      '/v1/pay/queryOrder',
      { out_trade_no: orderNo() },
      {
        env: { LEDGER_RETENTION_DAYS: '367', UNPAID_RETENTION_DAYS: '2' } as Partial<Env>,
      },
    )
    expect(reply.body.error?.code).not.toBe('wxPayError.config')
  })
})
