/**
 * @module
 * Part 2b: `/v1/pay/params` and `/v1/pay/notify` under WXPAY_API_VERSION=v3, timed as part 2 times
 * v2 (bench/service.mjs: round trip minus baseline, and workerd's CPU time), with KV and the ledger
 * in memory and WeChat answered in-process with replies signed ahead (bench/upstream-v3.ts). The
 * RSA share of `/v1/pay/params` is its two signatures (the order request's Authorization and the
 * paySign) timed alone; notify's cost is one RSA verification and one AES-GCM decryption plus the
 * same ledger path as v2. The keys are the test-only ones of dev-v3.env.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBenchWorker } from './lib/bench-worker.mjs'
import { ROOT } from './lib/tools.mjs'
import { BENCH_BINDINGS, cpuPerRequest, report, runOne } from './service.mjs'

const PLAN = [
  { route: 'params', orders: 'P' },
  { route: 'notify', orders: 'P' },
  { route: 'route', orders: 'R' },
  { route: 'rsa', orders: 'S' },
]
const WARMUP = 60
const TIMED = 400
const CPU_RUN = 500
const GOAL_MS = 2.5

/** dev-v3.env as bindings (dotenv's double-quoted values with \n escapes). */
function devV3Bindings() {
  const vars = {}
  for (const line of readFileSync(join(ROOT, 'dev-v3.env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)="(.*)"$/.exec(line)
    if (match) vars[match[1]] = match[2].replaceAll('\\n', '\n')
  }
  return vars
}

/** Runs part 2b; prints its table and the v2/v3 comparison, returns the figures. */
export async function benchServiceV3({ log, runId, v2 }) {
  const worker = await startBenchWorker({ bindings: { ...BENCH_BINDINGS, ...devV3Bindings() }, ephemeral: true })
  try {
    const ids = (set, letter, n) => Array.from({ length: n }, (_, i) => `${runId}v3${set}${letter}${i}`)
    for (const { route, orders } of PLAN) await runOne(worker.call, route, 'memory', ids('w', orders, WARMUP))
    const results = []
    for (const { route, orders } of PLAN) {
      results.push({ route, ...(await runOne(worker.call, route, 'memory', ids('t', orders, TIMED))) })
    }
    // Named as part 2 names them (params: outside the ledger = the route with a ledger that answers at once).
    const rows = report(results, 'memory', () => {})
    const RSA = 'params: two RSA signatures alone'
    rows.forEach((row, i) => {
      if (results[i]?.route === 'rsa') row.route = RSA
    })
    const named = (route) => rows.find((row) => row.route === route)
    if (worker.cpuMs) {
      for (const [i, { route, orders }] of PLAN.entries()) {
        rows[i].cpuMs = await cpuPerRequest(worker, route, 'memory', ids('c', orders, CPU_RUN))
      }
    }
    if (worker.outbound.length > 0)
      throw new Error(`the service reached the network: ${worker.outbound.slice(0, 3).join(', ')}`)
    if (worker.problems.length > 0)
      throw new Error(`the service logged ${worker.problems.length} warnings/errors: ${worker.problems[0]}`)
    const v2Of = (route) => v2?.find((row) => row.route === route)
    const fmt = (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(3))
    log('API v3, KV and ledger SQLite in memory (ms/request): median, p99, workerd CPU; v2 beside it')
    for (const row of rows) {
      const before = v2Of(row.route)
      log(
        `  ${row.route.padEnd(34)} v3 ${fmt(row.medianMs)} / ${fmt(row.p99Ms)} / cpu ${fmt(row.cpuMs)}` +
          (before ? `   v2 ${fmt(before.medianMs)} / ${fmt(before.p99Ms)} / cpu ${fmt(before.cpuMs)}` : ''),
      )
    }
    const params = named('/v1/pay/params')
    const rsa = named(RSA)
    log(
      `/v1/pay/params under v3: median ${fmt(params.medianMs)} ms (goal ≤ ${GOAL_MS} ms: ${params.medianMs <= GOAL_MS ? 'met' : 'NOT met'}),` +
        ` of which two RSA signatures ${fmt(rsa.medianMs)} ms (${((rsa.medianMs / params.medianMs) * 100).toFixed(0)} %);` +
        ` by CPU time ${fmt(params.cpuMs)} ms, RSA ${fmt(rsa.cpuMs)} ms`,
    )
    const notify = named('/v1/pay/notify')
    log(
      `/v1/pay/notify under v3 (one RSA verification, one AES-GCM decryption, the ledger): median ${fmt(notify.medianMs)} ms, CPU ${fmt(notify.cpuMs)} ms`,
    )
    return { method: { warmup: WARMUP, timed: TIMED }, rows, goalMs: GOAL_MS }
  } finally {
    await worker.dispose()
  }
}
