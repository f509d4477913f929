/**
 * @module
 * `Authorization: Bearer <token>` against API_TOKENS (comma-separated, so tokens can be rotated).
 * Both sides are hashed before the constant-time compare, so neither length nor prefix leaks.
 */
import { createMiddleware } from 'hono/factory'
import { loadConfig } from './config'
import { fail } from './errors'

const encoder = new TextEncoder()

export function bearer() {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const { apiTokens } = loadConfig(c.env)
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer +([^\s]+) *$/i.exec(header)
    if (!match?.[1]) throw fail('unauthorized', 'send Authorization: Bearer <token> with one of the API_TOKENS')
    const given = await digest(match[1])
    let ok = false
    for (const token of apiTokens) {
      // No early exit: every configured token is compared.
      if (crypto.subtle.timingSafeEqual(given, await digest(token))) ok = true
    }
    if (!ok) throw fail('unauthorized', 'the bearer token is not one of the API_TOKENS')
    await next()
  })
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(text))
}
