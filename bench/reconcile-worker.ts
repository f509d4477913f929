/**
 * @module
 * The bench Worker of `bench/reconcile.mjs`: the service's reconciliation Workflows and its
 * OrderLedger, with WeChat's downloadbill answered in-process by a synthetic day. The bill is made
 * by the sandbox's own bill writer (src/sandbox/bill.ts) 1,000 orders at a time and streamed
 * gzipped, as WeChat sends it; the index keys are those the ledger writes (`indexEntries`).
 *  - `POST /declare?day=&n=`: the day's bill lists orders 0…n−1 (`B<day>x<i>`, paid at 10:00).
 *  - `POST /seed?day=&from=&to=`: writes the `paid:` keys of those orders, as their ledgers would.
 *  - `POST /start?day=&id=`: creates the run; `POST /status?id=` its status;
 *    `POST /children?id=&n=`: the meters of its child instances.
 */
import type { OrderRecord } from '../src/ledger/record'
import { indexEntries } from '../src/ledger/snapshot'
import { Reconciliation, ReconciliationBatch } from '../src/reconcile'
import { billRows, billText } from '../src/sandbox/bill'
import { serviceFee, yuan } from '../src/sandbox/bill-text'
import type { Order } from '../src/sandbox/orders'
import { ListingKV } from './listing-kv'

export { OrderLedger } from '../src/ledger/ledger'

// ORDERS in memory for the runs (Miniflare's KV takes milliseconds a write: seeding 100,000 keys
// would take longer than the run); the runs count their own KV operations all the same.
const orders = new ListingKV() as unknown as KVNamespace
const withOrders = (env: Env): Env => ({ ...env, ORDERS: orders })

export class BenchReconciliation extends Reconciliation {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, withOrders(env))
  }
}

export class BenchReconciliationBatch extends ReconciliationBatch {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, withOrders(env))
  }
}

const days = new Map<string, number>()
const fee = (i: number) => 100 + (i % 1000)
const no = (day: string, i: number) => `B${day}x${i}`
const tx = (day: string, i: number) => `4200${day}${String(i).padStart(12, '0')}`

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const request = new Request(input, init)
  if (!new URL(request.url).pathname.endsWith('/pay/downloadbill')) {
    return new Response('the bench answers downloadbill only', { status: 502 })
  }
  const day = /<bill_date>(?:<!\[CDATA\[)?(\d{8})/.exec(await request.text())?.[1] ?? ''
  const n = days.get(day)
  if (n === undefined) throw new Error(`no bill declared for ${day}`)
  return new Response(billStream(day, n).pipeThrough(new CompressionStream('gzip')))
}

/** The ALL bill of `day` with `n` payments, written 1,000 lines at a time. */
function billStream(day: string, n: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let at = 0
  let header = true
  return new ReadableStream({
    pull(controller) {
      if (at >= n) {
        controller.enqueue(encoder.encode(summary(n)))
        controller.close()
        return
      }
      const orders = Array.from({ length: Math.min(1000, n - at) }, (_, k) => order(day, at + k))
      const lines = billText(billRows(orders, day)).split('\r\n')
      // billText writes header, lines, summary header, summary, '': the summary comes at the end.
      const rows = lines.slice(header ? 0 : 1, -3)
      header = false
      at += orders.length
      controller.enqueue(encoder.encode(`${rows.join('\r\n')}\r\n`))
    },
  })
}

function summary(n: number): string {
  let total = 0
  let service = 0
  for (let i = 0; i < n; i++) {
    total += fee(i)
    service += Math.floor((fee(i) * 6 + 500) / 1000)
  }
  const head = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额'
  const values = [String(n), yuan(total), '0.00', '0.00', serviceFee(service), yuan(total), '0.00']
  return `${head}\r\n${values.map((value) => `\`${value}`).join(',')}\r\n`
}

function order(day: string, i: number): Order {
  return {
    v: 1,
    out_trade_no: no(day, i),
    request: {
      appid: 'wxd930ea5d5a258f4f',
      mch_id: '10000100',
      total_fee: String(fee(i)),
      body: 'T-shirt, XL',
      trade_type: 'JSAPI',
    },
    sign_type: 'HMAC-SHA256',
    trade_state: 'SUCCESS',
    created_at: 0,
    prepay: { id: 'wx0', at: 0 },
    payment: {
      transaction_id: tx(day, i),
      time_end: `${day}100000`,
      bank_type: 'CMC',
      cash_fee: String(fee(i)),
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      is_subscribe: 'N',
    },
    notification: { delivered: true, attempts: [] },
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url)
    const q = (name: string) => url.searchParams.get(name) ?? ''
    const day = q('day')
    switch (url.pathname) {
      case '/declare':
        days.set(day, Number(q('n')))
        return Response.json({ ok: true })
      case '/seed': {
        const writes: Promise<void>[] = []
        for (let i = Number(q('from')); i < Number(q('to')); i++) {
          const record = {
            v: 2,
            out_trade_no: no(day, i),
            total_fee: fee(i),
            payment: { transaction_id: tx(day, i), time_end: `${day}100000` },
          } as OrderRecord
          for (const entry of indexEntries(record)) writes.push(orders.put(entry.key, '', { metadata: entry.metadata }))
        }
        await Promise.all(writes)
        return Response.json({ ok: true })
      }
      case '/start':
        await env.RECONCILIATION.create({ id: q('id'), params: { day } })
        return Response.json({ ok: true })
      case '/status':
        return Response.json(await (await env.RECONCILIATION.get(q('id'))).status())
      case '/children': {
        const meters = []
        for (let chunk = 0; chunk < Number(q('n')); chunk++) {
          const status = await (await env.RECONCILIATION_BATCH.get(`${q('id')}-b${chunk}`)).status()
          meters.push({ status: status.status, ...(status.output as object) })
        }
        return Response.json(meters)
      }
      default:
        return new Response('not found', { status: 404 })
    }
  },
} satisfies ExportedHandler<Env>
