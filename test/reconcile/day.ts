/**
 * Synthetic bill days: orders as WeChat's bill lists them (made by the sandbox's own bill writer),
 * and the index keys a ledger writes for them (made by the ledger's own `indexEntries`).
 */
import { env } from 'cloudflare:workers'
import type { OrderRecord } from '../../src/ledger/record'
import { indexEntries } from '../../src/ledger/snapshot'
import { billRows, billText } from '../../src/sandbox/bill'
import type { Order } from '../../src/sandbox/orders'
import { PRIMARY, passThrough, route } from '../support/net'

export type DayOrder = { out_trade_no: string; transaction_id: string; total_fee: number }

let serial = 0

/** `n` paid orders of `day` (yyyyMMdd) with fresh numbers. */
export function dayOrders(day: string, n: number): DayOrder[] {
  serial += 1
  return Array.from({ length: n }, (_, i) => ({
    out_trade_no: `D${day}${serial}x${i}`,
    transaction_id: `42000${day}${String(serial).padStart(4, '0')}${String(i).padStart(8, '0')}`,
    total_fee: 100 + i,
  }))
}

/** The bill of `day` listing `orders` as paid at 10:00 Beijing time. */
export function billOf(day: string, orders: DayOrder[]): string {
  const sandboxOrders = orders.map(
    (order): Order => ({
      v: 1,
      out_trade_no: order.out_trade_no,
      request: {
        appid: 'wxd930ea5d5a258f4f',
        mch_id: '10000100',
        total_fee: String(order.total_fee),
        body: 'T-shirt',
        trade_type: 'JSAPI',
      },
      sign_type: 'HMAC-SHA256',
      trade_state: 'SUCCESS',
      created_at: 0,
      prepay: { id: 'wx0', at: 0 },
      payment: {
        transaction_id: order.transaction_id,
        time_end: `${day}100000`,
        bank_type: 'CMC',
        cash_fee: String(order.total_fee),
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        is_subscribe: 'N',
      },
      notification: { delivered: true, attempts: [] },
    }),
  )
  return billText(billRows(sandboxOrders, day))
}

/** Seeds the `paid:` keys a ledger writes for `orders` (or, `bare`, the earlier versions' keys without metadata). */
export async function seedIndex(day: string, orders: DayOrder[], { bare = false } = {}): Promise<void> {
  for (const order of orders) {
    const record = {
      v: 2,
      out_trade_no: order.out_trade_no,
      total_fee: order.total_fee,
      payment: { transaction_id: order.transaction_id, time_end: `${day}100000` },
    } as OrderRecord
    for (const entry of indexEntries(record)) {
      await env.ORDERS.put(entry.key, '', bare ? {} : { metadata: entry.metadata })
    }
  }
}

/** Serves `csv` as downloadbill's answer (counting the downloads); everything else goes to the sandbox. */
export function billIs(csv: string): { downloads: number } {
  const seen = { downloads: 0 }
  route(PRIMARY, (request) => {
    if (!new URL(request.url).pathname.endsWith('/pay/downloadbill')) return passThrough(request)
    seen.downloads += 1
    return new Response(csv)
  })
  return seen
}
