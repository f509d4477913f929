/**
 * The daily bill against the ledgers, through HTTP and the Cron Trigger: the sandbox serves the
 * bill from its own orders; a strict stand-in serves a doctored one where a test needs it.
 */
import { createScheduledController, introspectWorkflowInstance } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import worker from '../../src/dev'
import { previousBeijingDay } from '../../src/reconcile'
import { billRows, billText } from '../../src/sandbox/bill'
import { loadOrder } from '../../src/sandbox/orders'
import { orderNo, post, sandboxPay } from '../support/api'
import { ledgerRecord, runAlarm, snapshotCaughtUp } from '../support/ledger'
import { PRIMARY, passThrough, route, SERVICE } from '../support/net'
import { deliver, notification, placeOrder, SUCCESS_XML, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { V3 } from '../support/version'

const beijingToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')

/** WeChat's notifications do not reach the service while `during` runs (as when the service was down). */
async function unreachable<T>(during: () => Promise<T>): Promise<T> {
  route('service.test', () => new Response('down', { status: 503 }))
  try {
    return await during()
  } finally {
    route('service.test', (request) => exports.default.fetch(request))
  }
}

/**
 * Serves `csv` as downloadbill's answer; everything else goes to the sandbox. A v2 stand-in: the
 * tests that doctor the bill run under v2 only (the CSV path after the download is the same; v3's
 * download, hash and gzip are tested in test/wechat/v3).
 */
function billIs(csv: string): void {
  route(PRIMARY, (request) =>
    new URL(request.url).pathname.endsWith('/pay/downloadbill') ? new Response(csv) : passThrough(request),
  )
}

// A run checks every difference of the day, other test files' orders among them: it is waited for.
const reconciliation = (fields: Record<string, string>) =>
  post('/v1/pay/reconciliation', fields, { env: { RECONCILIATION_WAIT_MS: '60000' } as Partial<Env> })

describe('POST /v1/pay/reconciliation', { timeout: 60_000 }, () => {
  // Every run logs its discrepancies (other tests' orders among them); the tests read the report.
  beforeEach(() => {
    captureLogs()
  })

  it('a payment in the bill the ledger never heard of is confirmed, recorded and relayed once', async () => {
    const all = shop()
    const order = await placeOrder()
    // The run fixes other test files' orders of the day too, and their relays reach the same shop.
    const received = () => all.filter((relay) => relay.body.includes(`"${order.out_trade_no}"`))
    await unreachable(() => sandboxPay(order.out_trade_no))
    expect((await ledgerRecord(order.out_trade_no))?.trade_state).toBe('NOTPAY')

    const { status, body } = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    expect(status).toBe(200)
    expect(body.data.bill).toBe('found')
    expect(body.data.fixed).toContainEqual({ kind: 'payment_recorded', out_trade_no: order.out_trade_no })
    await vi.waitFor(() => expect(received()).toHaveLength(1))
    expect(await ledgerRecord(order.out_trade_no)).toMatchObject({
      trade_state: 'SUCCESS',
      relayed_at: expect.any(String),
    })
    expect(body.data.totals.bill.payments).toBeGreaterThanOrEqual(1)

    // Run again: nothing left to fix for this order, and no second relay.
    const again = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    expect(again.body.data.fixed).not.toContainEqual(expect.objectContaining({ out_trade_no: order.out_trade_no }))
    expect(received()).toHaveLength(1)
  })

  it('a refund in the bill the ledger has as PROCESSING is confirmed with refundquery and relayed', async () => {
    const received = shop()
    const order = await placeOrder({ total_fee: 100 })
    await sandboxPay(order.out_trade_no)
    const out_refund_no = orderNo('R')
    expect(
      (await post('/v1/pay/refund', { out_trade_no: order.out_trade_no, out_refund_no, refund_fee: 40 })).status,
    ).toBe(200)
    await unreachable(() =>
      exports.default.fetch(
        new Request(`${SERVICE}/sandbox/refund`, { method: 'POST', body: new URLSearchParams({ out_refund_no }) }),
      ),
    )
    received.length = 0
    // Other test files' orders of the day may be fixed by the same run and relayed to the same shop.
    const refunds = () => received.filter((relay) => relay.body.includes(`"${out_refund_no}"`))
    const { body } = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    expect(body.data.fixed).toContainEqual({ kind: 'refund_recorded', out_trade_no: order.out_trade_no, out_refund_no })
    await vi.waitFor(() => expect(refunds()).toHaveLength(1))
    expect(JSON.parse(refunds()[0]?.body as string)).toMatchObject({
      type: 'refund',
      data: { out_refund_no, refund_fee: 40, refund_status: 'SUCCESS' },
    })
  })

  it.skipIf(V3)('reports an amount that differs between the bill and the ledger', async () => {
    shop()
    const order = await placeOrder({ total_fee: 100 })
    await sandboxPay(order.out_trade_no)
    const sandboxOrder = await loadOrder(env.SANDBOX as KVNamespace, order.out_trade_no)
    if (!sandboxOrder) throw new Error('sandbox order missing')
    sandboxOrder.request.total_fee = '1000'
    billIs(billText(billRows([sandboxOrder], beijingToday())))
    const { body } = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    // Other tests' payments of today are missing from this one-row bill; this order's only discrepancy is its amount.
    const mine = body.data.discrepancies.filter((d: { out_trade_no: string }) => d.out_trade_no === order.out_trade_no)
    expect(mine).toEqual([
      {
        kind: 'amount_mismatch',
        out_trade_no: order.out_trade_no,
        bill: expect.objectContaining({ total_fee: 1000 }),
        ledger: expect.objectContaining({ total_fee: 100, trade_state: 'SUCCESS' }),
      },
    ])
    expect(body.data.totals.bill).toEqual({ payments: 1, payment_fee: 1000, refunds: 0, refund_fee: 0 })
  })

  it.skipIf(V3)(
    'reports a malformed bill line by its number and reconciles the rest of the day (commas in body and attach)',
    async () => {
      shop()
      const order = await placeOrder({ body: 'T-shirt, XL', attach: 'colour=red,size=XL' })
      await sandboxPay(order.out_trade_no)
      const sandboxOrder = await loadOrder(env.SANDBOX as KVNamespace, order.out_trade_no)
      if (!sandboxOrder) throw new Error('sandbox order missing')
      const [header, ...rest] = billText(billRows([sandboxOrder], beijingToday())).split('\r\n')
      billIs([header, '`a line that is not a bill line', ...rest].join('\r\n'))
      const { body } = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
      expect(body.data.malformed).toEqual([{ line: 2, reason: 'the line has 1 values, expected 27' }])
      expect(body.data.totals.bill).toEqual({ payments: 1, payment_fee: order.total_fee, refunds: 0, refund_fee: 0 })
      const mine = body.data.discrepancies.filter(
        (d: { out_trade_no: string }) => d.out_trade_no === order.out_trade_no,
      )
      expect(mine).toEqual([])
    },
  )

  it('reports a ledger payment of that day that is missing from the bill', async () => {
    shop()
    const order = await placeOrder()
    // A payment WeChat notified that its bill does not show (the sandbox never saw it).
    const message = await notification(order, { fields: { time_end: `${beijingToday()}093000` } })
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    await snapshotCaughtUp(order.out_trade_no) // the snapshot and its index keys
    const { body } = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    expect(body.data.discrepancies).toContainEqual({
      kind: 'missing_from_bill',
      out_trade_no: order.out_trade_no,
      bill: null,
      ledger: { trade_state: 'SUCCESS', total_fee: order.total_fee, transaction_id: message.transaction_id },
    })
  })

  it('lists orders whose relay schedule is spent until a redelivery succeeds', async () => {
    shop(503)
    const order = await placeOrder()
    expect((await deliver(await notification(order))).text).toContain('FAIL')
    for (let i = 0; i < 8; i++) await runAlarm(order.out_trade_no)
    await snapshotCaughtUp(order.out_trade_no)
    const { body } = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    expect(body.data.relay_failed).toContainEqual({ out_trade_no: order.out_trade_no, relays: ['payment'] })

    shop(200)
    expect((await post('/v1/pay/redeliver', { out_trade_no: order.out_trade_no })).body.data.delivered).toBe(true)
    // At once, before the index key is deleted in the background: the report asks the ledger.
    const after = await reconciliation({ bill_date: beijingToday(), refresh: '1' })
    expect(after.body.data.relay_failed).not.toContainEqual(
      expect.objectContaining({ out_trade_no: order.out_trade_no }),
    )
  })

  it('a day without a bill is an answer, not an error', async () => {
    const { status, body } = await reconciliation({ bill_date: '20200101' })
    expect(status).toBe(200)
    expect(body.data).toMatchObject({
      bill_date: '20200101',
      bill: 'none',
      totals: { bill: { payments: 0, payment_fee: 0, refunds: 0, refund_fee: 0 } },
      discrepancies: [],
      fixed: [],
    })
  })

  it('keeps the report: asked again it is the same one, refresh=1 runs it anew', async () => {
    const first = await reconciliation({ bill_date: '20200102' })
    const kept = await reconciliation({ bill_date: '20200102' })
    expect(kept.body.data.generated_at).toBe(first.body.data.generated_at)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const fresh = await reconciliation({ bill_date: '20200102', refresh: '1' })
    expect(fresh.body.data.generated_at).not.toBe(first.body.data.generated_at)
    expect(await env.ORDERS.get('reconciliation:20200102', 'json')).toEqual(fresh.body.data)
  })

  it.each([
    [{ bill_date: '2026-11-29' }, 'bill_date: must be a date yyyyMMdd'],
    [{ bill_date: '20261329' }, 'bill_date: must be a date yyyyMMdd'],
    [{ bill_date: '20261129', refresh: 'yes' }, 'refresh: must be 1 (run again) or 0'],
  ])('%o → 400 naming the field', async (fields, message) => {
    const { status, body } = await reconciliation(fields)
    expect(status).toBe(400)
    expect(body.error).toEqual({ code: 'wxPayError.params', message })
  })
})

describe('the Cron Trigger', () => {
  it('reconciles the previous Beijing day and keeps its report', async () => {
    // 2020-01-06 03:00 UTC is 11:00 on the 6th in Beijing: the bill to fetch is the 5th's.
    const scheduledTime = Date.UTC(2020, 0, 6, 3, 0, 0)
    expect(previousBeijingDay(scheduledTime)).toBe('20200105')
    await using run = await introspectWorkflowInstance(env.RECONCILIATION, 'reconcile-20200105')
    await worker.scheduled(createScheduledController({ scheduledTime, cron: '0 3 * * *' }), env)
    await run.waitForStatus('complete')
    expect(await env.ORDERS.get('reconciliation:20200105', 'json')).toMatchObject({
      bill_date: '20200105',
      run: 'reconcile-20200105',
      bill: 'none',
    })
    // The cron fired again (a retried trigger) joins the day's run: no second run, the same report.
    const kept = await env.ORDERS.get('reconciliation:20200105')
    await worker.scheduled(createScheduledController({ scheduledTime, cron: '0 3 * * *' }), env)
    expect(await env.ORDERS.get('reconciliation:20200105')).toBe(kept)
  })

  it('takes the Beijing date, not the UTC one, around midnight', () => {
    // 2026-11-29 16:30 UTC is 00:30 on the 30th in Beijing: yesterday there is the 29th.
    expect(previousBeijingDay(Date.UTC(2026, 10, 29, 16, 30))).toBe('20261129')
    expect(previousBeijingDay(Date.UTC(2026, 10, 29, 15, 30))).toBe('20261128')
  })
})
