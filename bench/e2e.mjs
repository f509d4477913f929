/**
 * @module
 * Part 4: end to end under `wrangler dev --env dev` (sandbox on, local KV in a temporary
 * directory), localhost only. Load on `POST /v1/pay/params` (the service, which calls the sandbox
 * over HTTP) beside the same load on the sandbox's `POST /sandbox/pay/unifiedorder` alone, at
 * concurrency 1 and 32, a fixed number of requests each, with a hard time cap.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from './lib/load.mjs'
import { freePortIn, startWrangler } from './lib/proc.mjs'
import { table } from './lib/stats.mjs'
import { loadProjectCodec } from './lib/tools.mjs'

const API_KEY = 'e2e0key0e2e0key0e2e0key0e2e0key0'
const TOKEN = 'e2e-bench-token'
const NOTIFY_SECRET = 'e2e-bench-notify-secret-0123'
const APPID = 'wxd930ea5d5a258f4f' // wrangler.toml [env.dev]
const MCH_ID = '10000100'
const PHASES = [
  { concurrency: 1, requests: 300 },
  { concurrency: 32, requests: 2000 },
]
const WARMUP = 50
const CAP_MS = 40_000

/** Runs part 4; prints a table and returns the raw figures. */
export async function benchEndToEnd({ log, runId }) {
  const codec = await loadProjectCodec()
  // The ports set aside for benchmarks' wrangler dev on the shared machine.
  const port = await freePortIn(8792, 8799)
  const inspectorPort = await freePortIn(8792, 8799, [port])
  const persist = await mkdtemp(join(tmpdir(), 'wxpayserver-e2e-'))
  const origin = `http://localhost:${port}`
  const server = await startWrangler(
    [
      '--env=dev',
      `--port=${port}`,
      '--ip=localhost',
      `--inspector-port=${inspectorPort}`,
      `--persist-to=${persist}`,
      '--show-interactive-dev-session=false',
      '--log-level=warn',
      '--var',
      `WXPAY_API_BASE:${origin}/sandbox`,
      `WXPAY_API_BASE_BACKUP:${origin}/sandbox`,
      `WXPAY_API_KEY:${API_KEY}`,
      `API_TOKENS:${TOKEN}`,
      `NOTIFY_SECRET:${NOTIFY_SECRET}`,
    ],
    { readyUrl: new URL('/', origin) },
  )
  try {
    let serial = 0
    const orderNo = () => `${runId}e${(serial++).toString(36)}`
    const targets = [
      {
        name: 'POST /v1/pay/params',
        url: new URL('/v1/pay/params', origin),
        build: () => ({ headers: paramsHeaders, body: paramsBody(orderNo()) }),
        check: (reply) => reply.status === 200 && reply.body.includes('"paySign"'),
      },
      {
        name: 'POST /sandbox/pay/unifiedorder',
        url: new URL('/sandbox/pay/unifiedorder', origin),
        build: () => unifiedorderRequest(codec, orderNo(), origin),
        check: (reply) =>
          reply.status === 200 && /<result_code><!\[CDATA\[SUCCESS]]>|<result_code>SUCCESS</.test(reply.body),
      },
    ]
    const results = []
    for (const target of targets) {
      const warm = await load({ ...target, requests: await many(WARMUP, target.build), concurrency: 1, capMs: CAP_MS })
      if (warm.errors > 0) throw new Error(`${target.name} fails during warm-up: ${warm.firstError}`)
      for (const phase of PHASES) {
        // Bodies are built (and signed) before the clock starts.
        const requests = await many(phase.requests, target.build)
        const figures = await load({ ...target, requests, concurrency: phase.concurrency, capMs: CAP_MS })
        results.push({ target: target.name, ...figures })
      }
    }
    log(
      table([
        ['wrangler dev, localhost', 'conc.', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
        ...results.map((row) => [
          row.target,
          row.concurrency,
          `${row.sent}${row.capped ? ` of ${row.planned} (capped)` : ''}`,
          row.rps.toFixed(1),
          row.p50Ms.toFixed(2),
          row.p99Ms.toFixed(2),
          row.errors ? `${row.errors}: ${row.firstError}` : '0',
        ]),
      ]),
    )
    log(
      `each /v1/pay/params calls the sandbox over HTTP (two Worker invocations, KV on disk under --persist-to);` +
        ` the load generator shares the machine with workerd; ${WARMUP} warm-up requests per target not counted`,
    )
    return { port, capMs: CAP_MS, results }
  } finally {
    await server.stop()
    await rm(persist, { recursive: true, force: true })
  }
}

const paramsHeaders = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' }

function paramsBody(outTradeNo) {
  return new URLSearchParams({
    body: '测试商店-商品',
    out_trade_no: outTradeNo,
    total_fee: '101',
    spbill_create_ip: '14.23.150.211',
    notify_url: 'https://shop.bench/paid',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  }).toString()
}

/** A signed unifiedorder request as the service would send it (§3.1 JSAPI fields, HMAC-SHA256). */
async function unifiedorderRequest(codec, outTradeNo, origin) {
  const fields = {
    appid: APPID,
    mch_id: MCH_ID,
    nonce_str: crypto.randomUUID().replaceAll('-', ''),
    sign_type: 'HMAC-SHA256',
    body: '测试商店-商品',
    out_trade_no: outTradeNo,
    total_fee: '101',
    spbill_create_ip: '14.23.150.211',
    notify_url: `${origin}/v1/pay/notify`,
    trade_type: 'JSAPI',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  }
  fields.sign = await codec.sign(fields, API_KEY, 'HMAC-SHA256')
  return { headers: { 'content-type': 'text/xml; charset=utf-8' }, body: codec.encode(fields) }
}

async function many(n, build) {
  const out = []
  for (let i = 0; i < n; i++) out.push(await build())
  return out
}
