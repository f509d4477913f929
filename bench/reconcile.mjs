/**
 * @module
 * Part 6: the daily reconciliation Workflow on synthetic days of 1,000, 10,000 and 100,000 paid
 * orders (bench/reconcile-worker.ts), in workerd through Miniflare, each size in a fresh runtime:
 *  - common case: every order's `paid:` key seeded as its ledger writes it, so bill and index agree;
 *  - worst case: no key at all (a deployment's first day): every bill line is a difference, checked
 *    in child instances of 250 (the 100,000-order worst case runs only with BENCH_WORST_100K=1:
 *    about 100,000 Durable Objects created locally takes many minutes on two cores).
 * ORDERS is in memory (bench/listing-kv.ts): Miniflare's KV takes milliseconds a write, and seeding
 * 100,000 keys would take longer than the run; each instance counts its KV operations all the same.
 * Reported per run: wall time (start to `complete`), the busiest invocation's subrequests (each
 * instance counts its own: src/reconcile/meter.ts), KV operations and Durable Object calls in all,
 * workerd's peak resident memory while the run ran, and the growth exponent from 10,000 to 100,000.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { table } from './lib/stats.mjs'
import { loadEsbuild, loadMiniflare, ROOT } from './lib/tools.mjs'
import { BENCH_BINDINGS } from './service.mjs'

const SIZES = (process.env.BENCH_RECONCILE_SIZES ?? '1000,10000,100000').split(',').map(Number)

/** Runs part 6; prints a table and returns the raw figures. */
export async function benchReconcile({ log }) {
  const script = await bundle()
  const runs = []
  for (const kase of (process.env.BENCH_RECONCILE_CASES ?? 'common,worst').split(',')) {
    for (const n of SIZES) {
      if (kase === 'worst' && n === 100_000 && process.env.BENCH_WORST_100K !== '1') continue
      const run = await runDay(script, kase, n)
      runs.push(run)
      log(
        `  ${kase} ${n}: ${run.wallS.toFixed(1)} s, busiest invocation ${run.busiest} subrequests, ` +
          `KV ${run.kv}, Durable Object calls ${run.ledger}, children ${run.children}, peak RSS ${run.peakMb} MB`,
      )
    }
  }
  const exponent = (kase, key) => {
    const at = (n) => runs.find((r) => r.case === kase && r.n === n)?.[key]
    const a = at(10_000)
    const b = at(100_000)
    return a && b ? Math.log(b / a) / Math.log(10) : undefined
  }
  const growth = {
    common: { wall: exponent('common', 'wallS'), subrequests: exponent('common', 'total') },
    worst: { wall: exponent('worst', 'wallS'), subrequests: exponent('worst', 'total') },
  }
  log(
    table([
      [
        'case',
        'orders',
        'wall s',
        'busiest invocation',
        'subrequests in all',
        'KV ops',
        'DO calls',
        'children',
        'peak RSS MB',
      ],
      ...runs.map((r) => [r.case, r.n, r.wallS.toFixed(1), r.busiest, r.total, r.kv, r.ledger, r.children, r.peakMb]),
    ]),
  )
  const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(2))
  log(
    `growth exponent 10k→100k: common wall ${fmt(growth.common.wall)}, subrequests ${fmt(growth.common.subrequests)}; ` +
      `worst wall ${fmt(growth.worst.wall)}, subrequests ${fmt(growth.worst.subrequests)}`,
  )
  const common100k = runs.find((r) => r.case === 'common' && r.n === 100_000)
  const worstMax = Math.max(...runs.filter((r) => r.case === 'worst').map((r) => r.busiest))
  const verdict = (value, holds) => (value === undefined ? 'not measured' : holds(value) ? 'holds' : 'does not hold')
  log(
    `goals: common 100k ≤ 300 subrequests: ${verdict(common100k?.total, (x) => x <= 300)}; ` +
      `≤ 60 s: ${verdict(common100k?.wallS, (x) => x <= 60)}; ` +
      `worst no invocation > 1,000: ${verdict(Number.isFinite(worstMax) ? worstMax : undefined, (x) => x <= 1000)}`,
  )
  return { runs, growth }
}

async function runDay(script, kase, n) {
  const { Miniflare, convertV4MiniflareOptions } = await loadMiniflare()
  const day = kase === 'common' ? '20261101' : '20261102'
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script,
      compatibilityDate: compatibilityDate(),
      kvNamespaces: ['ORDERS'],
      durableObjects: { LEDGER: { className: 'OrderLedger', useSQLite: true } },
      unsafeEphemeralDurableObjects: true,
      workflows: {
        RECONCILIATION: { name: 'reconciliation', className: 'BenchReconciliation' },
        RECONCILIATION_BATCH: { name: 'reconciliation-batch', className: 'BenchReconciliationBatch' },
      },
      bindings: BENCH_BINDINGS,
      handleStructuredLogs: () => {},
    }),
  )
  try {
    const base = await mf.ready
    const call = async (path) => {
      const res = await fetch(new URL(path, base), { method: 'POST' })
      const text = await res.text()
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`)
      return JSON.parse(text)
    }
    await call(`/declare?day=${day}&n=${n}`)
    const seeding = performance.now()
    if (kase === 'common') {
      for (let from = 0; from < n; from += 2000)
        await call(`/seed?day=${day}&from=${from}&to=${Math.min(n, from + 2000)}`)
    }
    const seedS = (performance.now() - seeding) / 1000
    const id = `reconcile-${day}`
    const memory = sampleMemory()
    const started = performance.now()
    await call(`/start?day=${day}&id=${id}`)
    let status
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      status = await call(`/status?id=${id}`)
      if (process.env.BENCH_VERBOSE)
        console.log(`  ${((performance.now() - started) / 1000).toFixed(1)} s ${status.status}`)
      if (status.status === 'complete' || status.status === 'errored' || status.status === 'terminated') break
    }
    const wallS = (performance.now() - started) / 1000
    const peakMb = memory.stop()
    if (status.status !== 'complete')
      throw new Error(`run ${kase} ${n}: ${status.status} ${JSON.stringify(status.error)}`)
    const out = status.output
    const children = out.children ? await call(`/children?id=${id}&n=${out.children}`) : []
    if (children.some((c) => c.status !== 'complete')) throw new Error(`run ${kase} ${n}: a child did not complete`)
    const sum = (key) => out.meter[key] + children.reduce((total, c) => total + c.meter[key], 0)
    const expected = kase === 'common' ? 0 : n
    if (out.discrepancies !== expected)
      throw new Error(`run ${kase} ${n}: ${out.discrepancies} discrepancies, expected ${expected}`)
    return {
      case: kase,
      n,
      wallS,
      seedS,
      busiest: Math.max(out.meter.calls, ...children.map((c) => c.meter.calls)),
      parent: out.meter.calls,
      total: sum('calls'),
      kv: sum('kv'),
      ledger: sum('ledger'),
      children: out.children,
      peakMb,
    }
  } finally {
    await mf.dispose()
  }
}

/** Samples the resident memory of this process's workerd children every 100 ms; `stop` answers the peak (MB). */
function sampleMemory() {
  let peak = 0
  const pids = () =>
    execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)])
      .toString()
      .split('\n')
      .filter((line) => line.includes('workerd'))
      .map((line) => line.trim().split(/\s+/)[0])
  const sample = () => {
    let rss = 0
    for (const pid of pids()) {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      rss += match ? Number(match[1]) : 0
    }
    peak = Math.max(peak, rss)
  }
  sample()
  const timer = setInterval(sample, 100)
  return {
    stop: () => {
      clearInterval(timer)
      sample()
      return Math.round(peak / 1024)
    },
  }
}

async function bundle() {
  const esbuild = await loadEsbuild()
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'bench', 'reconcile-worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    target: 'es2022',
    write: false,
    logLevel: 'error',
  })
  return result.outputFiles[0].text
}

function compatibilityDate() {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
  return /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(toml)?.[1]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchReconcile({ log: console.log })
}
