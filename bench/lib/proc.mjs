/**
 * @module
 * `wrangler dev` as a child process group: started detached on free localhost ports, awaited
 * until it answers, and stopped with its whole group (workerd included), also on failure or ^C.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { nodeBinary, wranglerEnv } from '../bundle.mjs'
import { keepAlive, send } from './http.mjs'
import { ROOT, WRANGLER_BIN } from './tools.mjs'

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * A TCP port on 127.0.0.1 in `from`..`to` (inclusive) that was free a moment ago, not one of `taken`:
 * for a `wrangler dev` that must stay in the ports set aside for it on a shared machine.
 */
export async function freePortIn(from, to, taken = []) {
  for (let port = from; port <= to; port++) {
    if (taken.includes(port)) continue
    const free = await new Promise((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
  throw new Error(`no free port in ${from}–${to}`)
}

/**
 * Starts `wrangler dev <args>` in its own process group and waits until `readyUrl` answers.
 * @returns {Promise<{ stop: () => Promise<void> }>} `stop` ends the whole group.
 */
export async function startWrangler(args, { readyUrl, timeoutMs = 90_000 }) {
  const child = spawn(nodeBinary(), [WRANGLER_BIN, 'dev', ...args], {
    cwd: ROOT,
    env: wranglerEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const keep = (chunk) => {
    log = (log + chunk).slice(-8000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited = false
  const exit = new Promise((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
  })

  const stop = async () => {
    process.off('exit', killGroup)
    if (!exited) {
      signalGroup('SIGTERM')
      const timer = setTimeout(() => signalGroup('SIGKILL'), 5000)
      await exit
      clearTimeout(timer)
    }
    // workerd may outlive wrangler by a moment: nothing of the group is left running.
    signalGroup('SIGKILL')
  }
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal)
    } catch {}
  }
  const killGroup = () => signalGroup('SIGKILL')
  process.on('exit', killGroup)

  const agent = keepAlive(1)
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      if (exited) throw new Error(`wrangler dev exited before answering:\n${log}`)
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within ${timeoutMs} ms:\n${log}`)
      try {
        await send(agent, readyUrl)
        break
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  } catch (err) {
    await stop()
    throw err
  } finally {
    agent.destroy()
  }
  return { stop }
}
