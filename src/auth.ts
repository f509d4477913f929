/**
 * @module
 * `Authorization: Bearer <token>` with scopes: API_TOKENS place orders and refund (`pay`), OPS_TOKENS
 * redeliver and reconcile (`ops`). Each list is comma-separated, so tokens can be rotated. Every token
 * is hashed before the constant-time compare, so neither length nor prefix leaks.
 */
import { createMiddleware } from 'hono/factory'
import { type Config, loadConfig } from './config'
import { fail } from './errors'

export type Scope = 'pay' | 'ops'

/** Routes that operate the money lifecycle; every other route behind the token is `pay`, a new one too. */
export const OPS_ROUTES: readonly string[] = ['/v1/pay/redeliver', '/v1/pay/reconciliation']

/** The scope `path` needs (the path as the router matched it). */
export function scopeOf(path: string): Scope {
  return OPS_ROUTES.includes(path) ? 'ops' : 'pay'
}

const LIST: Record<Scope, string> = { pay: 'API_TOKENS', ops: 'OPS_TOKENS' }

const encoder = new TextEncoder()

/**
 * Admits a request whose token holds the scope its path needs: no or an unknown token is 401, a
 * token of the other scope 403 naming the scope. While OPS_TOKENS is not set, the ops routes take
 * API_TOKENS and log a warning on each use, so a deployment from before scopes keeps working.
 */
export function bearer() {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const config = loadConfig(c.env)
    const needed = scopeOf(c.req.path)
    const fallback = needed === 'ops' && config.opsTokens.length === 0
    const list = fallback ? 'API_TOKENS (OPS_TOKENS is not set)' : LIST[needed]
    const match = /^Bearer +([^\s]+) *$/i.exec(c.req.header('authorization') ?? '')
    if (!match?.[1]) throw fail('unauthorized', `send Authorization: Bearer <token> with one of the ${list}`)
    const held = await scopeOfToken(config, match[1])
    if (held === undefined) throw fail('unauthorized', `the bearer token is not one of the ${list}`)
    if (fallback) {
      console.warn(
        JSON.stringify({
          event: 'ops_scope_fallback',
          path: c.req.path,
          message: 'OPS_TOKENS is not set, so an API token was accepted here: set OPS_TOKENS (README "Scopes")',
        }),
      )
    } else if (held !== needed) {
      throw fail(
        'forbidden',
        `${c.req.path} needs the ${needed} scope: a token from ${LIST[needed]}, not ${LIST[held]}`,
      )
    }
    await next()
  })
}

type Digests = { digest: ArrayBuffer; scope: Scope }[]

// The configured tokens' digests, computed once per isolate and configuration.
const cache = new WeakMap<Config, Digests>()

/** The scope of the token given, or undefined when it is none of the configured ones. */
async function scopeOfToken(config: Config, token: string): Promise<Scope | undefined> {
  let digests = cache.get(config)
  if (!digests) {
    const of = (scope: Scope) => async (t: string) => ({ digest: await digest(t), scope })
    digests = await Promise.all([...config.apiTokens.map(of('pay')), ...config.opsTokens.map(of('ops'))])
    cache.set(config, digests)
  }
  const given = await digest(token)
  let found: Scope | undefined
  for (const { digest, scope } of digests) {
    // No early exit: every configured token is compared.
    if (crypto.subtle.timingSafeEqual(given, digest)) found = scope
  }
  return found
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(text))
}
