/**
 * @module
 * `node bench/profile.mjs [route] [n]`: a CPU profile of `n` requests of one bench route (default
 * `route`, /v1/pay/params with a ledger that answers at once) inside workerd, through its V8
 * inspector; prints the functions with the most self time and writes bench/.out/<route>.cpuprofile
 * (open it in Chrome DevTools). Profile before optimising: the round-trip figures say how much, this
 * says where.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBenchWorker } from './lib/bench-worker.mjs'
import { ROOT } from './lib/tools.mjs'
import { BENCH_BINDINGS } from './service.mjs'

const route = process.argv[2] ?? 'route'
const n = Number(process.argv[3] ?? 3000)
const inspectorPort = 9300 + Math.floor(Math.random() * 90)
const worker = await startBenchWorker({ bindings: BENCH_BINDINGS, ephemeral: true, inspectorPort })
try {
  const ids = (set) => Array.from({ length: n }, (_, i) => `prof${Date.now().toString(36)}${set}${i}`)
  const run = async (list) => {
    for (let i = 0; i < list.length; i += 50) {
      await worker.call(`/prepare?route=${route}&kv=memory&ids=${list.slice(i, i + 50).join(',')}`)
    }
    for (let i = 0; i < list.length; i += 50) {
      await worker.call(`/batch?route=${route}&kv=memory&ids=${list.slice(i, i + 50).join(',')}`)
    }
  }
  await run(ids('w').slice(0, 300))
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0]
  const socket = new WebSocket(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`)
  await new Promise((resolve, reject) => {
    socket.onopen = resolve
    socket.onerror = reject
  })
  let next = 0
  const pending = new Map()
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data)
    pending.get(message.id)?.(message)
  }
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next
      pending.set(id, resolve)
      socket.send(JSON.stringify({ id, method, params }))
    })
  await send('Profiler.enable')
  await send('Profiler.setSamplingInterval', { interval: 50 })
  await send('Profiler.start')
  await run(ids('t'))
  const { result } = await send('Profiler.stop')
  socket.close()
  const profile = result.profile
  const outDir = join(ROOT, 'bench', '.out')
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, `${route}.cpuprofile`), JSON.stringify(profile))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map()
  let total = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`
    const dt = profile.timeDeltas[i] ?? 0
    self.set(key, (self.get(key) ?? 0) + dt)
    total += dt
  })
  const busy = [...self].filter(([key]) => !key.startsWith('(idle)')).reduce((sum, [, t]) => sum + t, 0)
  console.log(`${route}: ${n} requests, ${(busy / 1000 / n).toFixed(3)} ms of sampled non-idle time per request`)
  for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${(t / 1000 / n).toFixed(4)} ms/req  ${key}`)
  }
} finally {
  await worker.dispose()
}
