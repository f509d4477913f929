/**
 * @module
 * Starts bench/worker.ts in wrangler's Miniflare (workerd) with the production compatibility date,
 * an ORDERS KV namespace, the SQLite-backed OrderLedger Durable Object as LEDGER (as wrangler.toml
 * binds it) and its in-memory-KV twin as MEMORY_LEDGER, and the given bindings; it refuses every
 * outbound request so that nothing in a timed request can reach a network.
 * `ephemeral` keeps the Durable Objects' SQLite in memory (workerd `inMemory` storage) instead of
 * Miniflare's files on disk, the way the in-memory ORDERS leaves out KV's latency.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { keepAlive, send } from './http.mjs'
import { loadEsbuild, loadMiniflare, ROOT } from './tools.mjs'

/**
 * @returns {Promise<{ call: (path: string) => Promise<string>, outbound: string[], problems: string[], dispose: () => Promise<void> }>}
 *   `call` POSTs to the bench Worker over one keep-alive socket and throws unless it answers 200;
 *   `problems` collects the Worker's warn and error log lines (its info lines are dropped).
 */
export async function startBenchWorker({ bindings, ephemeral = false }) {
  const { Miniflare, convertV4MiniflareOptions, Response } = await loadMiniflare()
  const outbound = []
  const problems = []
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
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
    return { call, outbound, problems, dispose }
  } catch (err) {
    await dispose()
    throw err
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
