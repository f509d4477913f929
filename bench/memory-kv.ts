/**
 * @module
 * An in-memory stand-in for the ORDERS KV binding, so part 2 can time the service's own work
 * apart from the store's latency (Miniflare's local KV takes milliseconds per write; production
 * KV is a network hop, I/O wait rather than the Worker's CPU). Only what the service calls is here:
 * get (text or json), getWithMetadata, put and delete; anything else throws, so a new use shows up instead of passing
 * silently. The ledger's Durable Object storage is not replaced: it is part of the ledger's work.
 */
import { OrderLedger } from '../src/ledger/ledger'

type GetType = 'text' | 'json'

export class MemoryKV {
  readonly #values = new Map<string, string>()
  readonly #metadata = new Map<string, unknown>()

  async get(key: string, options?: GetType | { type?: GetType }): Promise<unknown> {
    const value = this.#values.get(key)
    if (value === undefined) return null
    const type = typeof options === 'string' ? options : (options?.type ?? 'text')
    if (type === 'json') return JSON.parse(value)
    if (type === 'text') return value
    throw new Error(`MemoryKV: get type ${String(type)} is not supported`)
  }

  /** The ledger reads an order's KV record this way when its own storage is empty (adoption, archives). */
  async getWithMetadata(
    key: string,
    options?: GetType | { type?: GetType },
  ): Promise<{ value: unknown; metadata: unknown }> {
    return { value: await this.get(key, options), metadata: this.#metadata.get(key) ?? null }
  }

  /** The snapshot's metadata (third argument) is kept for getWithMetadata; nothing in the bench lists keys. */
  async put(key: string, value: unknown, options?: { metadata?: unknown }): Promise<void> {
    if (typeof value !== 'string') throw new Error('MemoryKV: only string values are supported')
    this.#values.set(key, value)
    this.#metadata.set(key, options?.metadata ?? null)
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key)
    this.#metadata.delete(key)
  }
}

/** The bench Worker's bindings: the production ones plus a second ledger namespace that writes to MemoryKV. */
export type BenchEnv = Env & { MEMORY_LEDGER: DurableObjectNamespace<OrderLedger> }

/**
 * `env` with ORDERS in memory and LEDGER pointing at {@link MemoryLedger}; one object per isolate
 * (the Worker and its Durable Objects share it), so per-env caches (config) stay warm.
 */
export function withMemoryKV(env: BenchEnv): BenchEnv {
  memoryEnv ??= { ...env, ORDERS: new MemoryKV() as unknown as KVNamespace, LEDGER: env.MEMORY_LEDGER }
  return memoryEnv
}

let memoryEnv: BenchEnv | undefined

/** The production OrderLedger, unchanged but for its ORDERS: the in-memory one. */
export class MemoryLedger extends OrderLedger {
  constructor(ctx: DurableObjectState, env: BenchEnv) {
    super(ctx, withMemoryKV(env))
  }
}
