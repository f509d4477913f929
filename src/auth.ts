/**
 * @module
 * `Authorization: Bearer <token>` against API_TOKENS (comma-separated, so tokens can be rotated).
 * Both sides are hashed before the constant-time compare, so neither length nor prefix leaks.
 */
import { createMiddleware } from 'hono/factory'
import { type Config, loadConfig } from './config'
import { fail } from './errors'

const encoder = new TextEncoder()

export function bearer() {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const config = loadConfig(c.env)
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer +([^\s]+) *$/i.exec(header)
    if (!match?.[1]) throw fail('unauthorized', 'send Authorization: Bearer <token> with one of the API_TOKENS')
    const given = await digest(match[1])
    let ok = false
    for (const token of await tokenDigests(config)) {
      // No early exit: every configured token is compared.
      if (crypto.subtle.timingSafeEqual(given, token)) ok = true
    }
    if (!ok) throw fail('unauthorized', 'the bearer token is not one of the API_TOKENS')
    await next()
  })
}

// The configured tokens' digests, computed once per isolate and configuration.
const cache = new WeakMap<Config, ArrayBuffer[]>()

async function tokenDigests(config: Config): Promise<ArrayBuffer[]> {
  let digests = cache.get(config)
  if (!digests) {
    digests = await Promise.all(config.apiTokens.map(digest))
    cache.set(config, digests)
  }
  return digests
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(text))
}
