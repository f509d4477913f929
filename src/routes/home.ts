/**
 * @module
 * The public front door, no token needed: `GET /` (what this is and where its documentation is, as JSON),
 * `GET /health` (is the configuration complete: names, never values) and `GET /openapi.json`.
 */
import { Hono } from 'hono'
import { loadConfig } from '../config'
import { checkHealth } from '../health'
import { openapiDocument } from '../openapi/document'

export const home = new Hono<{ Bindings: Env }>()

home.get('/', (c) => {
  const origin = publicOrigin(c.env, c.req.url)
  const links: Record<string, string> = {
    openapi: `${origin}/openapi.json`,
    health: `${origin}/health`,
  }
  // Only the dev entry mounts the sandbox, and only with WXPAY_SANDBOX=on (README "The built-in sandbox").
  if (c.env.WXPAY_SANDBOX === 'on') {
    links.reference = `${origin}/sandbox/reference`
    links.checkout = `${origin}/sandbox/checkout`
    links.checkout_native = `${origin}/sandbox/checkout/native`
  }
  return c.json({ data: { service: 'wxpayserver', description: DESCRIPTION, documentation: README, links } })
})

home.get('/health', (c) => {
  const health = checkHealth(c.env)
  return c.json(health, health.status === 'ok' ? 200 : 503)
})

// The API's OpenAPI 3.1 description: public, like any API reference.
home.get('/openapi.json', (c) => c.json(openapiDocument({ server: publicOrigin(c.env, c.req.url) })))

const DESCRIPTION =
  'WeChat Pay v2 for shops: form fields in, JSON out (/v1/pay/*, bearer token); verified payments relayed as signed JSON'
const README = 'README.md in the source'

/** PUBLIC_URL when the configuration names one, else the origin the request came to. */
export function publicOrigin(env: Env, url: string): string {
  try {
    return loadConfig(env).publicUrl ?? new URL(url).origin
  } catch {
    return new URL(url).origin
  }
}
