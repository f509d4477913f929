/**
 * One reconciliation for the whole merchant: WeChat's bill is per mch_id and lists the orders of
 * every appid, and so does the ledger's index, so orders under either appid match with nothing over.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { post, sandboxPay } from '../support/api'
import { APPID, SECOND_APPID } from '../support/bindings'
import { snapshotCaughtUp } from '../support/ledger'
import { route } from '../support/net'
import { placeOrder, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'

const beijingToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')

// A run checks every difference of the day, other test files' orders among them: it is waited for.
const reconciliation = () =>
  post(
    '/v1/pay/reconciliation',
    { bill_date: beijingToday(), refresh: '1' },
    { env: { RECONCILIATION_WAIT_MS: '60000' } as Partial<Env> },
  )

describe('the reconciliation with two appids', { timeout: 60_000 }, () => {
  it('matches the paid orders of both appids in one report', async () => {
    // Every run logs the discrepancies of other tests' orders; this test reads the report.
    captureLogs()
    shop()
    const orders = [await placeOrder({ appid: APPID }), await placeOrder({ appid: SECOND_APPID })]
    for (const order of orders) {
      await sandboxPay(order.out_trade_no)
      await snapshotCaughtUp(order.out_trade_no)
    }
    const { status, body } = await reconciliation()
    expect(status).toBe(200)
    expect(body.data.bill).toBe('found')
    const about = (entry: { out_trade_no: string }) => orders.some((o) => o.out_trade_no === entry.out_trade_no)
    expect(body.data.discrepancies.filter(about)).toEqual([])
    expect(body.data.fixed.filter(about)).toEqual([])
    expect(body.data.totals.bill.payments).toBeGreaterThanOrEqual(2)
  })

  // The confirmations (src/reconcile/fix.ts) ask orderquery and refundquery under the order's appid:
  // under the default one the reply would be refused by the ledger (payment_not_recorded).
  it('confirms an unheard payment under the second appid with orderquery under that appid', async () => {
    captureLogs()
    shop()
    const order = await placeOrder({ appid: SECOND_APPID })
    route('service.test', () => new Response('down', { status: 503 }))
    await sandboxPay(order.out_trade_no)
    route('service.test', (request) => exports.default.fetch(request))
    const { body } = await reconciliation()
    expect(body.data.fixed).toContainEqual({ kind: 'payment_recorded', out_trade_no: order.out_trade_no })
  })
})
