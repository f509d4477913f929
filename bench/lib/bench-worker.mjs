/**
 * @module
 * Starts bench/worker.ts in wrangler's Miniflare (workerd) with the production compatibility date,
 * an ORDERS KV namespace, the SQLite-backed OrderLedger Durable Object as LEDGER (as wrangler.toml
 * binds it) and its in-memory-KV twin as MEMORY_LEDGER, and the given bindings; it refuses every
 * outbound request so that nothing in a timed request can reach a network.
 * `ephemeral` keeps the Durable Objects' SQLite in memory (workerd `inMemory` storage) instead of
 * Miniflare's files on disk, the way the in-memory ORDERS leaves out KV's latency.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { keepAlive, send } from './http.mjs'
import { loadEsbuild, loadMiniflare, ROOT } from './tools.mjs'

/**
 * @returns {Promise<{ call: (path: string) => Promise<string>, outbound: string[], problems: string[], dispose: () => Promise<void> }>}
 *   `call` POSTs to the bench Worker over one keep-alive socket and throws unless it answers 200;
 *   `problems` collects the Worker's warn and error log lines (its info lines are dropped).
 */
export async function startBenchWorker({ bindings, ephemeral = false, inspectorPort }) {
  const { Miniflare, convertV4MiniflareOptions, Response } = await loadMiniflare()
  const outbound = []
  const problems = []
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      ...(inspectorPort && { inspectorPort }),
      script: await bundleWorker(),
      compatibilityDate: productionCompatibilityDate(),
      kvNamespaces: ['ORDERS'],
      durableObjects: {
        LEDGER: { className: 'OrderLedger', useSQLite: true },
        MEMORY_LEDGER: { className: 'MemoryLedger', useSQLite: true },
      },
      unsafeEphemeralDurableObjects: ephemeral,
      handleStructuredLogs: ({ level, message }) => {
        if (level === 'warn' || level === 'error') problems.push(message)
      },
      bindings,
      outboundService: (request) => {
        outbound.push(request.url)
        return new Response('the bench has no network', { status: 502 })
      },
    }),
  )
  const agent = keepAlive(1)
  const dispose = async () => {
    agent.destroy()
    await mf.dispose()
  }
  try {
    const base = await mf.ready
    const call = async (path) => {
      const reply = await send(agent, new URL(path, base), { method: 'POST' })
      if (reply.status !== 200) throw new Error(`bench worker ${path.slice(0, 60)}: HTTP ${reply.status} ${reply.body}`)
      return reply.body
    }
    return { call, outbound, problems, dispose, cpuMs: workerdCpu() }
  } catch (err) {
    await dispose()
    throw err
  }
}

/**
 * A reader of the CPU time (user + system, ms) the workerd process started for this Worker has used,
 * or undefined where /proc cannot say (not Linux). Unlike a round trip, CPU time does not grow when
 * other processes share the cores, so it measures the service's work on a busy machine.
 */
function workerdCpu() {
  const stat = (pid) => {
    try {
      // comm may hold spaces: the fields after it start past the last ')'.
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return {
        comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
        rest: text.slice(text.lastIndexOf(')') + 2).split(' '),
      }
    } catch {
      return undefined
    }
  }
  let pids
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }
  // The newest workerd whose parent chain reaches this process.
  const descends = (pid) => {
    for (let at = pid, hops = 0; at && at !== '0' && hops < 8; hops++) {
      if (at === String(process.pid)) return true
      at = stat(at)?.rest[1]
    }
    return false
  }
  const workerd = pids.filter((pid) => stat(pid)?.comm === 'workerd' && descends(pid)).at(-1)
  if (!workerd) return undefined
  // schedstat's first field: nanoseconds on a CPU, per thread (stat's ticks are 10 ms).
  return () => {
    let ns = 0
    try {
      for (const tid of readdirSync(`/proc/${workerd}/task`)) {
        ns += Number(readFileSync(`/proc/${workerd}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      }
    } catch {
      return Number.NaN
    }
    return ns / 1e6
  }
}

/** bench/worker.ts bundled the way wrangler bundles a Worker (esbuild, workerd conditions). */
async function bundleWorker() {
  const esbuild = await loadEsbuild()
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'bench', 'worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    // workerd's own modules (the DurableObject base class), provided at run time as wrangler leaves them.
    external: ['cloudflare:*'],
    target: 'es2022',
    write: false,
    logLevel: 'error',
  })
  return result.outputFiles[0].text
}

/** The top-level compatibility_date of wrangler.toml, so the bench runs what production runs. */
function productionCompatibilityDate() {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
  const date = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(toml)?.[1]
  if (!date) throw new Error('wrangler.toml has no top-level compatibility_date')
  return date
}
