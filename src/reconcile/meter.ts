/**
 * @module
 * Counts the subrequests a reconciliation step makes: every KV operation, Durable Object call,
 * Workflow call and WeChat fetch counts against the per-invocation limit (1,000 on the Free plan
 * for Cloudflare services; workers-scale reference §3), and no local runtime enforces it, so the
 * steps count their own and each instance reports its total (`calls`).
 */

import type { Config } from '../config'
import { createWechat, type Wechat } from '../wechat'

/** Subrequests made: `calls` in all, of which `kv` KV operations and `ledger` Durable Object calls. */
export type Meter = { calls: number; kv: number; ledger: number }

export const newMeter = (): Meter => ({ calls: 0, kv: 0, ledger: 0 })

/** Adds `more` into `into`. */
export function addMeter(into: Meter, more: Meter): Meter {
  into.calls += more.calls
  into.kv += more.kv
  into.ledger += more.ledger
  return into
}

/** `env` whose ORDERS, LEDGER and Workflow bindings count each call on `meter`. */
export function metered(env: Env, meter: Meter): Env {
  // Every method call is one subrequest; `wrap` names those whose answer has calls of its own.
  const counting = <T extends object>(
    target: T,
    kind: 'kv' | 'ledger' | 'other',
    wrap: Record<string, (value: unknown) => unknown> = {},
  ): T =>
    new Proxy(target, {
      get(object, name) {
        const value = Reflect.get(object, name)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          const result = Reflect.apply(value, object, args)
          const then = typeof name === 'string' ? wrap[name] : undefined
          // Building an id or a stub is local; the calls on them are not.
          if (name === 'idFromName' || name === 'idFromString' || (name === 'get' && object === env.LEDGER))
            return then ? then(result) : result
          meter.calls += 1
          if (kind !== 'other') meter[kind] += 1
          return then ? then(result) : result
        }
      },
    })
  const instance = (promise: unknown) => (promise as Promise<object>).then((found) => counting(found, 'other'))
  return {
    ...env,
    ORDERS: counting(env.ORDERS, 'kv'),
    LEDGER: counting(env.LEDGER, 'ledger', { get: (stub) => counting(stub as object, 'ledger') }),
    RECONCILIATION: counting(env.RECONCILIATION, 'other', { get: instance, create: instance }),
    RECONCILIATION_BATCH: counting(env.RECONCILIATION_BATCH, 'other', { get: instance, create: instance }),
  }
}

/** A WeChat client (v2 or v3) whose requests count on `meter`; `kv` keeps v3 platform certificates. */
export function meteredClient(config: Config, meter: Meter, kv?: KVNamespace): Wechat {
  return createWechat({
    config,
    ...(kv && { kv }),
    fetch: (input, init) => {
      meter.calls += 1
      return fetch(input, init)
    },
  })
}
