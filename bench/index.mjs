/**
 * @module
 * `npm run bench`: what a request costs the service and what its bundle weighs, side by side.
 *  1. codec — the project's XML codec against fast-xml-parser and xml2js, on WeChat's documented
 *     messages and on the same messages with field names the codec has never seen (bench/codec.mjs)
 *  2. service — per-route cost inside workerd, the order ledger (Durable Object) in the path and its
 *     share of /v1/pay/params timed apart, WeChat answered in-process (bench/service.mjs)
 *  3. bundle — gzip size of the production build, without the sandbox (bench/bundle.mjs)
 *  4. end to end — load under `wrangler dev` against the sandbox (bench/e2e.mjs)
 * Raw figures go to bench/.out/latest.json; the last line is the one-line summary.
 * `npm run bench -- --params` runs only what the /v1/pay/params figures need (part 2, in memory):
 * a short run while working on the request path.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { measureBundle } from './bundle.mjs'
import { benchCodec } from './codec.mjs'
import { benchEndToEnd } from './e2e.mjs'
import { round } from './lib/stats.mjs'
import { ROOT, workerdInfo } from './lib/tools.mjs'
import { benchReconcile } from './reconcile.mjs'
import { benchService } from './service.mjs'
import { benchServiceV3 } from './service-v3.mjs'

// Issue 7's goal for the production bundle (test/bundle.test.ts enforces its own, looser budget).
const BUNDLE_GOAL_BYTES = 30 * 1024

// ^C or a kill still runs the exit hooks that stop wrangler dev's process group.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))

const log = (line = '') => console.log(line)
const startedAt = new Date()
const runId = Date.now().toString(36)
const machine = describeMachine()

log(`wxpayserver bench — ${startedAt.toISOString()}`)
log(
  `machine: ${machine.cpu} × ${machine.cores} cores, Node ${machine.node}, workerd ${machine.workerd}, wrangler ${machine.wrangler}`,
)
log(`load average at start: ${machine.loadAtStart.join(' ')} (figures move with it)`)

const parts = {}
const errors = {}
const paramsOnly = process.argv.includes('--params')
if (!paramsOnly) await part('codec', '1. XML codec (Node, ops/s)', () => benchCodec({ log }))
await part('service', "2. The service's own cost per request (workerd, WeChat answered in-process)", () =>
  benchService({ log, runId, paramsOnly }),
)
await part('serviceV3', '2b. /v1/pay/params and notify under WeChat Pay API v3 (workerd, in memory)', () =>
  benchServiceV3({ log, runId, v2: parts.service?.memoryKv }),
)
if (!paramsOnly)
  await part(
    'bundle',
    '3. Production bundle without the sandbox (wrangler deploy --dry-run, top-level config)',
    async () => {
      const size = await measureBundle()
      log(
        `index.js ${(size.rawBytes / 1024).toFixed(2)} KB, gzip level ${size.gzipLevel}: ${(size.gzipBytes / 1024).toFixed(2)} KB (goal ≤ ${BUNDLE_GOAL_BYTES / 1024} KB)`,
      )
      log(`wrangler: ${size.wranglerLine ?? '(no Total Upload line)'}`)
      log(
        `largest (bytes in the minified index.js): ${size.contributors
          .slice(0, 8)
          .map((c) => `${c.name} ${(c.bytes / 1024).toFixed(1)}K`)
          .join(', ')}`,
      )
      const sandbox = size.contributors.filter((c) => c.name.includes('sandbox'))
      log(`sandbox code in it: ${sandbox.length === 0 ? 'none' : sandbox.map((c) => c.name).join(', ')}`)
      return size
    },
  )
if (!paramsOnly)
  await part('e2e', '4. End to end under wrangler dev (sandbox, localhost)', () => benchEndToEnd({ log, runId }))
if (!paramsOnly)
  await part('bill', '5. The daily bill read as a stream (Node, 100,000 rows)', async () =>
    (await import('./bill.mjs')).benchBill({ log }),
  )
if (!paramsOnly)
  await part('reconcile', '6. The daily reconciliation Workflow (workerd, synthetic days)', () =>
    benchReconcile({ log }),
  )

const params = parts.service?.memoryKv.find((row) => row.route === '/v1/pay/params')
const paramsC32 = parts.e2e?.results.find((row) => row.target === 'POST /v1/pay/params' && row.concurrency === 32)
const ledger = parts.service?.ledger
const v3Row = (route) => parts.serviceV3?.rows.find((row) => row.route === route)
const fixed = (value, digits) => (value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits))
const summary = {
  codec_parse_vs_fxp: fixed(parts.codec?.parseVsFastXmlParser, 1),
  codec_parse_unseen_vs_fxp: fixed(parts.codec?.parseUnseenNamesVsFastXmlParser, 1),
  params_median_ms: fixed(params?.medianMs, 3),
  params_p99_ms: fixed(params?.p99Ms, 3),
  ledger_median_ms: fixed(ledger?.medianMs, 3),
  ledger_share: fixed(ledger?.share, 2),
  ledger_do_ms: fixed(ledger?.overheadMs, 3),
  params_outside_ledger_ms: fixed(ledger?.routeMs, 3),
  params_route_alone_ms: fixed(ledger?.routeAloneMs, 3),
  params_cpu_ms: fixed(ledger?.cpu.paramsMs, 3),
  params_outside_ledger_cpu_ms: fixed(ledger?.cpu.outsideLedgerMs, 3),
  params_route_alone_cpu_ms: fixed(ledger?.cpu.routeAloneMs, 3),
  bundle_gzip_kb: fixed(parts.bundle && parts.bundle.gzipBytes / 1024, 2),
  bundle_raw_kb: fixed(parts.bundle && parts.bundle.rawBytes / 1024, 2),
  e2e_rps_c32: fixed(paramsC32?.rps, 1),
  v3_params_median_ms: fixed(v3Row('/v1/pay/params')?.medianMs, 3),
  v3_params_rsa_ms: fixed(v3Row('params: two RSA signatures alone')?.medianMs, 3),
  v3_notify_median_ms: fixed(v3Row('/v1/pay/notify')?.medianMs, 3),
}

log()
log('goals:')
log(`  codec parse ≥ 8× fast-xml-parser: ${verdict(parts.codec?.parseVsFastXmlParser, (x) => x >= 8)}`)
log(`  /v1/pay/params median ≤ 1 ms:     ${verdict(params?.medianMs, (x) => x <= 1)}`)
log(`  v3 /v1/pay/params median ≤ 2.5 ms: ${verdict(v3Row('/v1/pay/params')?.medianMs, (x) => x <= 2.5)}`)
log(`  bundle ≤ 30 KB gzip:              ${verdict(parts.bundle?.gzipBytes, (x) => x <= BUNDLE_GOAL_BYTES)}`)
machine.loadAtEnd = loadavg().map((x) => round(x, 2))
log(`load average at end: ${machine.loadAtEnd.join(' ')}`)

const outDir = join(ROOT, 'bench', '.out')
mkdirSync(outDir, { recursive: true })
const report = { startedAt: startedAt.toISOString(), runId, machine, ...parts, errors, summary }
writeFileSync(join(outDir, paramsOnly ? 'params.json' : 'latest.json'), `${JSON.stringify(report, null, 2)}\n`)
log(
  `raw figures: bench/.out/${paramsOnly ? 'params' : 'latest'}.json${Object.keys(errors).length ? `; failed parts: ${Object.keys(errors).join(', ')}` : ''}`,
)
log(
  `summary: ${Object.entries(summary)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`,
)
process.exitCode = Object.keys(errors).length > 0 ? 1 : 0

/** Runs one part; a failure is reported and recorded, and the other parts still run. */
async function part(key, title, run) {
  log()
  log(`== ${title}`)
  const started = performance.now()
  try {
    parts[key] = await run()
  } catch (err) {
    errors[key] = err instanceof Error ? err.message : String(err)
    log(`FAILED: ${errors[key]}`)
  }
  log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`)
}

function verdict(value, holds) {
  if (value === undefined) return 'not measured'
  return holds(value) ? 'holds' : 'does not hold'
}

function describeMachine() {
  const { version, binPath } = workerdInfo()
  const release = execFileSync(binPath, ['--version'])
    .toString()
    .trim()
    .replace(/^workerd\s+/, '')
  const workerd = `${release} (npm ${version})`
  return {
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    node: process.version,
    workerd,
    wrangler: JSON.parse(readFileSync(join(ROOT, 'node_modules', 'wrangler', 'package.json'), 'utf8')).version,
    loadAtStart: loadavg().map((x) => round(x, 2)),
  }
}
