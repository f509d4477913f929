/**
 * @module
 * An in-memory stand-in for the ORDERS KV binding, so part 2 can time the service's own work
 * apart from the store's latency (Miniflare's local KV takes milliseconds per write; production
 * KV is a network hop, I/O wait rather than the Worker's CPU). Only what the service calls is here:
 * get (text or json) and put; anything else throws, so a new use shows up instead of passing silently.
 */

type GetType = 'text' | 'json'

export class MemoryKV {
  readonly #values = new Map<string, string>()

  async get(key: string, options?: GetType | { type?: GetType }): Promise<unknown> {
    const value = this.#values.get(key)
    if (value === undefined) return null
    const type = typeof options === 'string' ? options : (options?.type ?? 'text')
    if (type === 'json') return JSON.parse(value)
    if (type === 'text') return value
    throw new Error(`MemoryKV: get type ${String(type)} is not supported`)
  }

  async put(key: string, value: unknown): Promise<void> {
    if (typeof value !== 'string') throw new Error('MemoryKV: only string values are supported')
    this.#values.set(key, value)
  }
}

/** `env` with ORDERS in memory; one object per isolate, so per-env caches (config) stay warm. */
export function withMemoryKV(env: Env): Env {
  memoryEnv ??= { ...env, ORDERS: new MemoryKV() as unknown as KVNamespace }
  return memoryEnv
}

let memoryEnv: Env | undefined
