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
 * hop, I/O wait rather than CPU). The ledger (OrderLedger, SQLite-backed Durable Object) is in
 * every route's path in both runs; its storage is Miniflare's local SQLite either way.
 *
 * The ledger's share of `/v1/pay/params` is measured by timing two of its parts alone, the same way:
 * `ledger` = the RPC `place()` with the route's PlaceRequest (Durable Object lookup, RPC, the
 * ledger's load and storage writes, its unifiedorder call, the KV snapshot), and `unifiedorder` =
 * that WeChat call alone in the Worker (sign, encode, parse, verify). `ledger` − `unifiedorder` is
 * what the Durable Object itself adds: RPC, instance start-up, storage, snapshot; `rpc` (get() on a
 * running ledger that holds its record) is the RPC round trip alone.
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

// Each route's orders: queryOrder and notify use the orders /params placed, closeOrder those /unified placed;
// the ledger part places orders of its own (a new order: a new Durable Object, as for /params), rpc too.
const PLAN = [
  { route: 'params', orders: 'P' },
  { route: 'unified', orders: 'U' },
  { route: 'queryOrder', orders: 'P' },
  { route: 'closeOrder', orders: 'U' },
  { route: 'notify', orders: 'P' },
  { route: 'ledger', orders: 'L' },
  { route: 'unifiedorder', orders: 'L' },
  { route: 'rpc', orders: 'G' },
  { route: 'route', orders: 'R' },
]
// `npm run bench -- --params`: only what the /v1/pay/params figures need, in memory.
const PARAMS_ONLY = ['params', 'ledger', 'unifiedorder', 'rpc', 'route']
const WARMUP = 60
const TIMED = 400
// Requests per route for the CPU-time figure, run in batches (one bench call each).
const CPU_RUN = 1000
const CPU_BATCH = 50
const CPU_ROUTES = ['params', 'ledger', 'route']

/** Runs part 2; prints a table and returns the raw figures. */
export async function benchService({ log, runId, paramsOnly = false }) {
  const figures = {}
  const plan = paramsOnly ? PLAN.filter(({ route }) => PARAMS_ONLY.includes(route)) : PLAN
  for (const kv of paramsOnly ? ['memory'] : ['memory', 'local']) {
    // memory: ORDERS and the ledgers' SQLite in memory; local: both in Miniflare's files on disk.
    const worker = await startBenchWorker({ bindings: BENCH_BINDINGS, ephemeral: kv === 'memory' })
    try {
      const ids = (set, letter, n) => Array.from({ length: n }, (_, i) => `${runId}${kv[0]}${set}${letter}${i}`)
      for (const { route, orders } of plan) await runOne(worker.call, route, kv, ids('w', orders, WARMUP))
      const results = []
      for (const { route, orders } of plan) {
        results.push({ route, ...(await runOne(worker.call, route, kv, ids('t', orders, TIMED))) })
      }
      figures[kv] = report(results, kv, log)
      if (kv === 'memory' && worker.cpuMs) {
        for (const { route, orders } of plan.filter(({ route }) => CPU_ROUTES.includes(route))) {
          const row = figures[kv].find((r) => r.route === (PART_NAMES[route] ?? `/v1/pay/${route}`))
          row.cpuMs = await cpuPerRequest(worker, route, kv, ids('c', orders, CPU_RUN))
        }
        log(
          table([
            ['workerd CPU time per request (ms; in memory)', 'cpu'],
            ...figures[kv].filter((row) => row.cpuMs !== undefined).map((row) => [row.route, row.cpuMs.toFixed(3)]),
          ]),
        )
      }
      if (worker.outbound.length > 0)
        throw new Error(`the service reached the network: ${worker.outbound.slice(0, 3).join(', ')}`)
      if (worker.problems.length > 0)
        throw new Error(`the service logged ${worker.problems.length} warnings/errors: ${worker.problems[0]}`)
    } finally {
      await worker.dispose()
    }
  }
  const params = figures.memory.find((row) => row.route === '/v1/pay/params')
  const ledger = ledgerShare(figures.memory)
  const ledgerOnDisk = figures.local && ledgerShare(figures.local)
  log(
    `/v1/pay/params, service's own work: median ${params.medianMs.toFixed(3)} ms (goal ≤ 1 ms), p99 ${params.p99Ms.toFixed(3)} ms`,
  )
  log(
    `  of which the ledger (RPC place(), its unifiedorder call included): median ${ledger.medianMs.toFixed(3)} ms` +
      ` (${(ledger.share * 100).toFixed(0)} % of the median); the Durable Object itself (RPC, start-up, storage,` +
      ` snapshot; ledger minus unifiedorder alone): ${ledger.overheadMs.toFixed(3)} ms, of which a bare RPC to a` +
      ` running ledger: ${ledger.rpcMs.toFixed(3)} ms; outside the ledger (auth,` +
      ` validation, fingerprint, paySign, JSON): ${ledger.routeMs.toFixed(3)} ms; timed alone (the route with a` +
      ` ledger that answers at once): ${ledger.routeAloneMs.toFixed(3)} ms`,
  )
  log(
    `  by workerd's CPU time (not stretched by a busy machine): /v1/pay/params ${ledger.cpu.paramsMs.toFixed(3)} ms,` +
      ` the ledger ${ledger.cpu.ledgerMs.toFixed(3)} ms, outside it ${ledger.cpu.outsideLedgerMs.toFixed(3)} ms,` +
      ` the route alone ${ledger.cpu.routeAloneMs.toFixed(3)} ms`,
  )
  if (ledgerOnDisk) {
    log(
      `  with Miniflare's on-disk KV and SQLite: the ledger ${ledgerOnDisk.medianMs.toFixed(3)} ms of` +
        ` ${figures.local.find((row) => row.route === '/v1/pay/params').medianMs.toFixed(3)} ms`,
    )
  }
  return {
    method: { warmup: WARMUP, timed: TIMED, bindings: redact(BENCH_BINDINGS) },
    memoryKv: figures.memory,
    localKv: figures.local,
    ledger,
    ledgerOnDisk,
  }
}

/** Times each request of `route` from Node, each preceded by its baseline (the same request, `dry`). */
export async function runOne(call, route, kv, ids) {
  await call(`/prepare?route=${route}&kv=${kv}&ids=${ids.join(',')}`)
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

/**
 * The CPU time workerd spends on a request of `route`: its CPU clock over `ids.length` requests minus
 * over as many baseline requests, per request. A busy machine stretches round trips, not CPU time.
 */
export async function cpuPerRequest(worker, route, kv, ids) {
  const batches = Array.from({ length: Math.ceil(ids.length / CPU_BATCH) }, (_, i) =>
    ids.slice(i * CPU_BATCH, (i + 1) * CPU_BATCH).join(','),
  )
  for (const batch of batches) await worker.call(`/prepare?route=${route}&kv=${kv}&ids=${batch}`)
  let start = worker.cpuMs()
  for (const batch of batches) await worker.call(`/batch?route=${route}&kv=${kv}&ids=${batch}&dry`)
  const baseline = worker.cpuMs() - start
  start = worker.cpuMs()
  for (const batch of batches) await worker.call(`/batch?route=${route}&kv=${kv}&ids=${batch}`)
  return round((worker.cpuMs() - start - baseline) / ids.length)
}

/**
 * The ledger's share of `/v1/pay/params` from the medians of the same run (each a median of
 * round trip minus baseline, so the parts need not add up exactly).
 */
function ledgerShare(rows) {
  const medianOf = (route) => rows.find((row) => row.route === route)?.medianMs ?? Number.NaN
  const cpuOf = (route) => rows.find((row) => row.route === route)?.cpuMs ?? Number.NaN
  const total = medianOf('/v1/pay/params')
  const ledger = medianOf(PART_NAMES.ledger)
  const wechat = medianOf(PART_NAMES.unifiedorder)
  const rpc = medianOf(PART_NAMES.rpc)
  return {
    medianMs: ledger,
    p99Ms: rows.find((row) => row.route === PART_NAMES.ledger)?.p99Ms ?? Number.NaN,
    share: round(total > 0 ? ledger / total : Number.NaN, 3),
    unifiedorderMs: wechat,
    overheadMs: round(Math.max(0, ledger - wechat)),
    rpcMs: rpc,
    routeMs: round(Math.max(0, total - ledger)),
    routeAloneMs: medianOf(PART_NAMES.route),
    cpu: {
      paramsMs: cpuOf('/v1/pay/params'),
      ledgerMs: cpuOf(PART_NAMES.ledger),
      outsideLedgerMs: round(cpuOf('/v1/pay/params') - cpuOf(PART_NAMES.ledger)),
      routeAloneMs: cpuOf(PART_NAMES.route),
    },
  }
}

/** How the two parts of /v1/pay/params timed alone are named in the tables. */
const PART_NAMES = {
  ledger: 'params: ledger RPC place()',
  unifiedorder: 'params: unifiedorder alone',
  rpc: 'ledger RPC get(), warm',
  route: 'params: outside the ledger',
}

export function report(results, kv, log) {
  const rows = results.map(({ route, rtt, baseline, isolate }) => {
    const transport = median(baseline)
    return {
      route: PART_NAMES[route] ?? `/v1/pay/${route}`,
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
        kv === 'memory'
          ? 'KV and ledger SQLite in memory (ms/request)'
          : "Miniflare's on-disk KV and SQLite (ms/request)",
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
      `median, p99 = round trip minus the median baseline round trip (the same request to the bench Worker, built` +
        ` but not run); mean = mean round trip minus mean baseline; mean by isolate clock = the request timed inside` +
        ` workerd (1 ms steps). ${TIMED} requests per route after ${WARMUP} warm-up, one at a time. Each order is a new` +
        ` Durable Object, so /params, /unified and the ledger part include starting one.`,
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
