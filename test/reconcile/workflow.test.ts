/**
 * The daily reconciliation as a Workflow: driven through HTTP and the Cron entry, watched with the
 * vitest plugin's Workflow introspection. Synthetic days (test/reconcile/day.ts) give bills and
 * index keys of a known shape; real ledgers and the sandbox give the differences.
 */
import { introspectWorkflowInstance, listDurableObjectIds } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { startRun } from '../../src/reconcile'
import type { RunOutput } from '../../src/reconcile/workflow'
import { post, sandboxPay } from '../support/api'
import { ledgerRecord } from '../support/ledger'
import { route } from '../support/net'
import { placeOrder, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { billIs, billOf, dayOrders, seedIndex } from './day'

const reconciliation = (fields: Record<string, string>, options = {}) => post('/v1/pay/reconciliation', fields, options)
const beijingToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')

/** Pays `no` in the sandbox while WeChat's notifications cannot reach the service. */
async function payUnheard(no: string): Promise<void> {
  route('service.test', () => new Response('down', { status: 503 }))
  try {
    await sandboxPay(no)
  } finally {
    route('service.test', (request) => exports.default.fetch(request))
  }
}

async function report(day: string) {
  // biome-ignore lint/suspicious/noExplicitAny: the kept report as JSON
  return (await env.ORDERS.get(`reconciliation:${day}`, 'json')) as any
}

describe('the reconciliation Workflow', { timeout: 60_000 }, () => {
  beforeEach(() => {
    captureLogs()
  })

  it('a day where the bill and the index agree touches no ledger', async () => {
    const day = '20200110'
    const orders = dayOrders(day, 40)
    await seedIndex(day, orders)
    billIs(billOf(day, orders))
    await using run = await introspectWorkflowInstance(env.RECONCILIATION, `reconcile-${day}`)
    const { status, body } = await reconciliation({ bill_date: day })
    expect(status).toBe(200)
    const fee = orders.reduce((sum, order) => sum + order.total_fee, 0)
    expect(body.data).toMatchObject({
      run: `reconcile-${day}`,
      bill: 'found',
      totals: { bill: { payments: 40, payment_fee: fee }, ledger: { payments: 40, payment_fee: fee } },
      discrepancies: [],
      fixed: [],
      relay_failed: [],
      malformed: [],
    })
    const output = (await run.getOutput()) as RunOutput
    // One bill download, three list pages, two progress writes and the report: nothing per order.
    expect(output).toMatchObject({ items: 0, children: 0, meter: { calls: 7, kv: 6, ledger: 0 } })
    const touched = new Set((await listDurableObjectIds(env.LEDGER)).map((id) => id.toString()))
    for (const order of orders) expect(touched.has(env.LEDGER.idFromName(order.out_trade_no).toString())).toBe(false)
  })

  it('index keys of earlier versions (no metadata) are read from their ledgers', async () => {
    const day = '20200111'
    const orders = dayOrders(day, 3)
    await seedIndex(day, orders, { bare: true })
    billIs(billOf(day, orders))
    const { body } = await reconciliation({ bill_date: day })
    // No ledger holds these synthetic orders: each is an unknown order, found by reading its ledger.
    expect(body.data.discrepancies.map((d: { kind: string }) => d.kind)).toEqual([
      'unknown_order',
      'unknown_order',
      'unknown_order',
    ])
    expect(body.data.totals.ledger).toEqual({ payments: 0, payment_fee: 0 })
  })

  it('differences are fixed once each when the fix step fails twice and then succeeds', async () => {
    const received = shop()
    const placed = [await placeOrder(), await placeOrder(), await placeOrder()]
    for (const order of placed) await payUnheard(order.out_trade_no)
    const id = `reconcile-${beijingToday()}-retry${Date.now()}`
    await using run = await introspectWorkflowInstance(env.RECONCILIATION, id)
    await run.modify(async (m) => {
      await m.disableRetryDelays()
      await m.mockStepError({ name: 'fix-0' }, new Error('the runtime lost the step'), 2)
    })
    await startRun(env, beijingToday(), id)
    await run.waitForStatus('complete')
    const kept = await report(beijingToday())
    expect(kept.run).toBe(id)
    for (const order of placed) {
      expect(kept.fixed.filter((f: { out_trade_no: string }) => f.out_trade_no === order.out_trade_no)).toEqual([
        { kind: 'payment_recorded', out_trade_no: order.out_trade_no },
      ])
      expect((await ledgerRecord(order.out_trade_no))?.trade_state).toBe('SUCCESS')
    }
    // The run fixes the whole day, other test files' orders among them: count this test's own relays.
    const ours = new Set(placed.map((order) => order.out_trade_no))
    const relayed = () =>
      received.map((relay) => JSON.parse(relay.body).data.out_trade_no as string).filter((no) => ours.has(no))
    await vi.waitFor(() => expect(relayed()).toHaveLength(3))
    expect(relayed().sort()).toEqual([...ours].sort())
  })

  it('the download step failing twice is retried and the day still gets its report', async () => {
    const day = '20200112'
    const orders = dayOrders(day, 5)
    await seedIndex(day, orders)
    const seen = billIs(billOf(day, orders))
    await using run = await introspectWorkflowInstance(env.RECONCILIATION, `reconcile-${day}`)
    await run.modify(async (m) => {
      await m.disableRetryDelays()
      await m.mockStepError({ name: 'download and diff' }, new Error('WeChat hung up'), 2)
    })
    await startRun(env, day)
    await run.waitForStatus('complete')
    expect(await report(day)).toMatchObject({ bill: 'found', discrepancies: [], totals: { bill: { payments: 5 } } })
    expect(seen.downloads).toBe(1)
  })

  it('two concurrent starts join one run', async () => {
    const day = '20200113'
    const orders = dayOrders(day, 4)
    await seedIndex(day, orders)
    const seen = billIs(billOf(day, orders))
    const [a, b] = await Promise.all([
      reconciliation({ bill_date: day, refresh: '1' }),
      reconciliation({ bill_date: day, refresh: '1' }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(a.body.data.run).toBe(b.body.data.run)
    expect(a.body.data.generated_at).toBe(b.body.data.generated_at)
    expect(seen.downloads).toBe(1)
    // refresh=1 once that run is done starts the next one.
    const again = await reconciliation({ bill_date: day, refresh: '1' })
    expect(again.body.data.run).toBe(`reconcile-${day}-2`)
    expect(seen.downloads).toBe(2)
  })

  it('answers 202 with the run and its progress while it runs, then the report', async () => {
    const day = '20200114'
    const orders = dayOrders(day, 2)
    await seedIndex(day, orders)
    billIs(billOf(day, orders))
    const running = await reconciliation({ bill_date: day }, { env: { RECONCILIATION_WAIT_MS: '1' } as Partial<Env> })
    expect(running.status).toBe(202)
    expect(running.body.data).toMatchObject({ run: `reconcile-${day}`, status: expect.any(String) })
    expect(running.body.data.progress.phase).toMatch(/^(download|check|done)$/)
    await using run = await introspectWorkflowInstance(env.RECONCILIATION, `reconcile-${day}`)
    await run.waitForStatus('complete')
    const done = await reconciliation({ bill_date: day })
    expect(done.status).toBe(200)
    expect(done.body.data).toMatchObject({ run: `reconcile-${day}`, discrepancies: [] })
  })

  it('an order whose ledger fails is reported unchecked with the reason; the rest of the day goes on', async () => {
    const day = '20200115'
    const [broken, fine] = dayOrders(day, 2) as [ReturnType<typeof dayOrders>[0], ReturnType<typeof dayOrders>[0]]
    // A record the ledger cannot adopt: it refuses every call until an operator looks.
    await env.ORDERS.put(`order:${broken.out_trade_no}`, '{"v":1,"out_trade_no":"garbled"')
    billIs(billOf(day, [broken, fine]))
    const { body } = await reconciliation({ bill_date: day })
    expect(body.data.discrepancies).toHaveLength(2)
    expect(body.data.discrepancies).toContainEqual({
      kind: 'unchecked',
      out_trade_no: broken.out_trade_no,
      bill: null,
      ledger: null,
      reason: `the KV record of order ${broken.out_trade_no} is not a v1 record`,
    })
    expect(body.data.discrepancies).toContainEqual(
      expect.objectContaining({ kind: 'unknown_order', out_trade_no: fine.out_trade_no }),
    )
  })

  it('many differences go to child instances of bounded size, and come back in one report', async () => {
    const day = '20200116'
    const orders = dayOrders(day, 7)
    billIs(billOf(day, orders))
    const id = `reconcile-${day}`
    await using run = await introspectWorkflowInstance(env.RECONCILIATION, id)
    await run.modify(async (m) => {
      await m.disableSleeps()
    })
    await env.RECONCILIATION.create({ id, params: { day, sizes: { inline: 2, child: 3, step: 2, wave: 2 } } })
    await run.waitForStatus('complete')
    const output = (await run.getOutput()) as RunOutput
    expect(output).toMatchObject({ items: 7, children: 3, discrepancies: 7 })
    const kept = await report(day)
    expect(kept.discrepancies.map((d: { out_trade_no: string }) => d.out_trade_no).sort()).toEqual(
      orders.map((order) => order.out_trade_no).sort(),
    )
    for (const chunk of [0, 1, 2]) {
      const child = await env.RECONCILIATION_BATCH.get(`${id}-b${chunk}`)
      const { status, output: counted } = await child.status()
      const size = chunk === 2 ? 1 : 3
      expect(status).toBe('complete')
      // Reading its chunk, one ledger call per item, keeping its findings.
      expect((counted as RunOutput).meter).toEqual({ calls: 2 + size, kv: 2, ledger: size })
    }
  })
})
