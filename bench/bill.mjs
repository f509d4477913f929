/**
 * @module
 * Part 5: the daily bill read as a stream (src/wechat/bill.ts, bundled unchanged and run in Node):
 * a generated ALL bill of 100,000 payments (commas, quotes and CJK text in 商品名称 and 商户数据包),
 * read from 16 KiB chunks as plain text and as gzip decompressed on the way, as the client hands
 * it on. Every run must read every row before it is timed.
 */
import { median, round, table } from './lib/stats.mjs'
import { loadEsbuild, ROOT } from './lib/tools.mjs'

const ROWS = 100_000
const CHUNK = 16 * 1024
const ROUNDS = 5

/** Runs part 5; prints a table and returns the raw figures. */
export async function benchBill({ log }) {
  const { ALL_COLUMNS, readBill } = await loadBillReader()
  const plain = new TextEncoder().encode(billText(ALL_COLUMNS))
  const gzip = new Uint8Array(
    await new Response(streamOf(plain).pipeThrough(new CompressionStream('gzip'))).arrayBuffer(),
  )

  const read = async (bytes, zipped) => {
    let body = streamOf(bytes)
    if (zipped) body = body.pipeThrough(new DecompressionStream('gzip'))
    let rows = 0
    let pending = 0
    for await (const entry of readBill(body, { onPending: (chars) => (pending = Math.max(pending, chars)) })) {
      if (entry.kind === 'row') rows += 1
      else if (entry.kind === 'malformed') throw new Error(`line ${entry.line}: ${entry.reason}`)
    }
    if (rows !== ROWS) throw new Error(`read ${rows} rows of ${ROWS}`)
    return pending
  }
  const cases = [
    { name: 'plain text', bytes: plain, zipped: false, times: [] },
    { name: 'gzip, decompressed as read', bytes: gzip, zipped: true, times: [] },
  ]
  for (const c of cases) c.pending = await read(c.bytes, c.zipped)
  // Interleaved rounds: a load spike hits both alike.
  for (let i = 0; i < ROUNDS; i++) {
    for (const c of cases) {
      const started = performance.now()
      await read(c.bytes, c.zipped)
      c.times.push(performance.now() - started)
    }
  }
  const results = cases.map(({ name, bytes, times, pending }) => {
    const ms = median(times)
    return {
      name,
      bytes: bytes.length,
      medianMs: round(ms, 1),
      rowsPerSecond: Math.round(ROWS / (ms / 1000)),
      maxPendingChars: pending,
    }
  })
  log(
    table([
      ['100,000-row bill', 'body', 'median', 'rows/s', 'most held between chunks'],
      ...results.map((r) => [
        r.name,
        `${(r.bytes / 1e6).toFixed(1)} MB`,
        `${r.medianMs} ms`,
        r.rowsPerSecond.toLocaleString('en'),
        `${r.maxPendingChars} chars`,
      ]),
    ]),
  )
  return { rows: ROWS, chunkBytes: CHUNK, results }
}

async function loadBillReader() {
  const esbuild = await loadEsbuild()
  const result = await esbuild.build({
    entryPoints: ['src/wechat/bill.ts'],
    absWorkingDir: ROOT,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  })
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`)
}

function streamOf(bytes) {
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + CHUNK))
      at += CHUNK
    },
  })
}

/** The bill of a day of ROWS payments of 1.01, in WeChat's format (refunds reference §4.4). */
function billText(columns) {
  const lines = [columns.join(',')]
  for (let i = 0; i < ROWS; i++) {
    const no = String(i).padStart(6, '0')
    lines.push(
      `\`2026-11-28 09:12:03,\`wx2421b1c4370ec43b,\`10000100,\`0,\`,\`4200000001202611280000${no},\`ORD${no},\`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,\`JSAPI,\`SUCCESS,\`CMC,\`CNY,\`1.01,\`0.00,\`0,\`0,\`0.00,\`0.00,\`,\`,\`T-shirt, XL "红色" ${no},\`{"n":"${no}","tags":"a,b"},\`0.01000,\`0.60%,\`1.01,\`0.00,\``,
    )
  }
  lines.push('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额')
  lines.push(`\`${ROWS},\`${ROWS * 1.01}.00,\`0.00,\`0.00,\`${ROWS / 100}.00000,\`${ROWS * 1.01}.00,\`0.00`)
  return `${lines.join('\r\n')}\r\n`
}
