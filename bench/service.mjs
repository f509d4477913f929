/**
 * @module
 * Part 2: the service's own cost per request, per route, inside workerd (wrangler's Miniflare),
 * with WeChat Pay and the shop answered in-process by bench/worker.ts.
 *
 * workerd's clocks (Date.now, performance.now, process.hrtime) advance in coarse, jittered 1 ms
 * steps even locally (cloudflare/workerd#3288), so single requests cannot be timed inside the
 * isolate. Each request is therefore timed from Node, one at a time over one keep-alive socket,
 * alternating with a baseline request that does everything but call the service (same URL, same
 * request built); the service's cost is the request's round trip minus the median baseline round
 * trip. The isolate's own clock, averaged over the same requests, cross-checks the mean.
 *
 * Each route runs twice: with ORDERS in memory (the service's own work: the headline figures) and
 * with Miniflare's local KV store (milliseconds per write on this disk; production KV is a network
 * hop, I/O wait rather than CPU).
 */
import { startBenchWorker } from './lib/bench-worker.mjs'
import { mean, median, quantile, round, since, summarize, table } from './lib/stats.mjs'

/** The service's configuration for the run; WeChat's hosts are answered inside the isolate. */
export const BENCH_BINDINGS = {
  WXPAY_APPID: 'wxd930ea5d5a258f4f',
  WXPAY_MCH_ID: '10000100',
  WXPAY_API_KEY: 'bench0key0bench0key0bench0key012',
  WXPAY_SIGN_TYPE: 'HMAC-SHA256',
  WXPAY_API_BASE: 'http://api.wechat.bench',
  WXPAY_API_BASE_BACKUP: 'http://api2.wechat.bench',
  API_TOKENS: 'bench-token-old,bench-token-new',
  NOTIFY_SECRET: 'bench-notify-secret-0123456789',
}

// Each route's orders: queryOrder and notify use the orders /params placed, closeOrder those /unified placed.
const PLAN = [
  { route: 'params', orders: 'P' },
  { route: 'unified', orders: 'U' },
  { route: 'queryOrder', orders: 'P' },
  { route: 'closeOrder', orders: 'U' },
  { route: 'notify', orders: 'P' },
]
const WARMUP = 60
const TIMED = 400

/** Runs part 2; prints a table and returns the raw figures. */
export async function benchService({ log, runId }) {
  const { call, outbound, dispose } = await startBenchWorker({ bindings: BENCH_BINDINGS })
  try {
    const figures = {}
    for (const kv of ['memory', 'local']) {
      const ids = (set, letter, n) => Array.from({ length: n }, (_, i) => `${runId}${kv[0]}${set}${letter}${i}`)
      for (const { route, orders } of PLAN) await runOne(call, route, kv, ids('w', orders, WARMUP))
      const results = []
      for (const { route, orders } of PLAN) {
        results.push({ route, ...(await runOne(call, route, kv, ids('t', orders, TIMED))) })
      }
      figures[kv] = report(results, kv, log)
    }
    if (outbound.length > 0) throw new Error(`the service reached the network: ${outbound.slice(0, 3).join(', ')}`)
    const params = figures.memory.find((row) => row.route === '/v1/pay/params')
    log(
      `/v1/pay/params, service's own work: median ${params.medianMs.toFixed(3)} ms (goal ≤ 1 ms), p99 ${params.p99Ms.toFixed(3)} ms`,
    )
    return {
      method: { warmup: WARMUP, timed: TIMED, bindings: redact(BENCH_BINDINGS) },
      memoryKv: figures.memory,
      localKv: figures.local,
    }
  } finally {
    await dispose()
  }
}

/** Times each request of `route` from Node, each preceded by its baseline (the same request, `dry`). */
async function runOne(call, route, kv, ids) {
  await call(`/prepare?route=${route}&ids=${ids.join(',')}`)
  const rtt = []
  const baseline = []
  const isolate = []
  for (const id of ids) {
    const path = `/one?route=${route}&kv=${kv}&id=${id}`
    let start = process.hrtime.bigint()
    await call(`${path}&dry`)
    baseline.push(since(start))
    start = process.hrtime.bigint()
    isolate.push(Number(await call(path)))
    rtt.push(since(start))
  }
  return { rtt, baseline, isolate }
}

function report(results, kv, log) {
  const rows = results.map(({ route, rtt, baseline, isolate }) => {
    const transport = median(baseline)
    return {
      route: `/v1/pay/${route}`,
      medianMs: round(Math.max(0, median(rtt) - transport)),
      p99Ms: round(Math.max(0, quantile(rtt, 0.99) - transport)),
      meanMs: round(mean(rtt) - mean(baseline)),
      isolateMeanMs: round(mean(isolate)),
      roundTrip: roundAll(summarize(rtt)),
      baselineRoundTrip: roundAll(summarize(baseline)),
    }
  })
  log(
    table([
      [
        kv === 'memory' ? 'ORDERS in memory (ms/request)' : "ORDERS in Miniflare's KV (ms/request)",
        'median',
        'p99',
        'mean',
        'mean by isolate clock',
        'round trip med/p99',
        'baseline med/p99',
      ],
      ...rows.map((row) => [
        row.route,
        row.medianMs.toFixed(3),
        row.p99Ms.toFixed(3),
        row.meanMs.toFixed(3),
        row.isolateMeanMs.toFixed(3),
        `${row.roundTrip.median.toFixed(2)}/${row.roundTrip.p99.toFixed(2)}`,
        `${row.baselineRoundTrip.median.toFixed(2)}/${row.baselineRoundTrip.p99.toFixed(2)}`,
      ]),
    ]),
  )
  if (kv === 'local') {
    log(
      `median, p99 = round trip minus the median baseline round trip (the same request to the bench Worker without` +
        ` app.fetch); mean = mean round trip minus mean baseline; mean by isolate clock = app.fetch timed inside` +
        ` workerd (1 ms steps). ${TIMED} requests per route after ${WARMUP} warm-up, one at a time.`,
    )
  }
  return rows
}

function roundAll(stats) {
  return Object.fromEntries(Object.entries(stats).map(([key, value]) => [key, round(value)]))
}

function redact(bindings) {
  return Object.fromEntries(
    Object.entries(bindings).map(([key, value]) => [key, /KEY|TOKENS|SECRET/.test(key) ? '(set)' : value]),
  )
}
