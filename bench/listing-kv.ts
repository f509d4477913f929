/**
 * @module
 * An in-memory ORDERS for the reconciliation bench: get (one key or many), put with metadata,
 * delete and list by prefix in pages of 1,000 with a cursor, in key order, as KV lists.
 */
type Entry = { value: string; metadata: unknown }

export class ListingKV {
  readonly #entries = new Map<string, Entry>()
  #sorted: string[] | undefined

  async get(key: string | string[], type?: 'text' | 'json'): Promise<unknown> {
    const read = (name: string) => {
      const entry = this.#entries.get(name)
      if (!entry) return null
      return type === 'json' ? JSON.parse(entry.value) : entry.value
    }
    if (Array.isArray(key)) return new Map(key.map((name) => [name, read(name)]))
    return read(key)
  }

  async put(key: string, value: string, options: { metadata?: unknown } = {}): Promise<void> {
    if (!this.#entries.has(key)) this.#sorted = undefined
    this.#entries.set(key, { value, metadata: options.metadata ?? null })
  }

  async delete(key: string): Promise<void> {
    if (this.#entries.delete(key)) this.#sorted = undefined
  }

  async list({ prefix = '', cursor }: { prefix?: string; cursor?: string } = {}) {
    this.#sorted ??= [...this.#entries.keys()].sort()
    const sorted = this.#sorted
    let at = cursor ? Number(cursor) : lowerBound(sorted, prefix)
    const keys = []
    while (at < sorted.length && keys.length < 1000 && (sorted[at] as string).startsWith(prefix)) {
      const name = sorted[at] as string
      keys.push({ name, metadata: this.#entries.get(name)?.metadata ?? null })
      at += 1
    }
    const complete = at >= sorted.length || !(sorted[at] as string).startsWith(prefix)
    return complete ? { keys, list_complete: true } : { keys, list_complete: false, cursor: String(at) }
  }
}

function lowerBound(sorted: string[], prefix: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((sorted[mid] as string) < prefix) lo = mid + 1
    else hi = mid
  }
  return lo
}
