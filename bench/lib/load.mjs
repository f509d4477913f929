/**
 * @module
 * A closed-loop load generator: `concurrency` workers send a fixed list of requests over
 * keep-alive sockets, each timed; a hard time cap stops it early (and says so).
 */
import { keepAlive, send } from './http.mjs'
import { quantile, round, since } from './stats.mjs'

/**
 * @param {{ url: URL, requests: { headers: object, body: string }[], concurrency: number, capMs: number, check: (reply: { status: number, body: string }) => boolean }} options
 */
export async function load({ url, requests, concurrency, capMs, check }) {
  const agent = keepAlive(concurrency)
  const latencies = []
  const errors = []
  let next = 0
  const start = process.hrtime.bigint()
  const worker = async () => {
    while (next < requests.length && since(start) < capMs) {
      const request = requests[next++]
      const sent = process.hrtime.bigint()
      try {
        const reply = await send(agent, url, { method: 'POST', ...request })
        latencies.push(since(sent))
        if (!check(reply)) errors.push(`HTTP ${reply.status} ${reply.body.slice(0, 200)}`)
      } catch (err) {
        errors.push(String(err))
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const wallMs = since(start)
  agent.destroy()
  return {
    concurrency,
    sent: next,
    planned: requests.length,
    capped: next < requests.length,
    errors: errors.length,
    firstError: errors[0],
    rps: round((latencies.length * 1000) / wallMs, 1),
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    wallMs: round(wallMs, 1),
  }
}
