/**
 * @module
 * The public front door, no token needed: `GET /` (what this is and where its documentation is),
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
  if (c.req.header('accept')?.includes('text/html')) return c.html(page(links))
  return c.json({ data: { service: 'wxpayserver', description: DESCRIPTION, documentation: README, links } })
})

home.get('/health', (c) => {
  const health = checkHealth(c.env)
  return c.json(health, health.status === 'ok' ? 200 : 503)
})

// The API's OpenAPI 3.1 description: public, like any API reference.
home.get('/openapi.json', (c) => c.json(openapiDocument({ server: publicOrigin(c.env, c.req.url) })))

const DESCRIPTION =
  'WeChat Pay v2 for shops: your backend posts form fields to /v1/pay/* with a bearer token and gets JSON; verified payments are relayed to your notify_url as signed JSON.'
const README = 'README.md in the source: quick start, walk-through, API, errors, configuration, deploying'

/** PUBLIC_URL when the configuration names one, else the origin the request came to. */
export function publicOrigin(env: Env, url: string): string {
  try {
    return loadConfig(env).publicUrl ?? new URL(url).origin
  } catch {
    return new URL(url).origin
  }
}

const LABELS: Record<string, string> = {
  openapi: 'OpenAPI 3.1 document',
  health: 'Health: is the configuration complete?',
  reference: 'API reference (sandbox)',
  checkout: 'Checkout page, JSAPI (sandbox)',
  checkout_native: 'Checkout page, NATIVE QR code (sandbox)',
}

function page(links: Record<string, string>): string {
  const items = Object.entries(links)
    .map(([key, href]) => `<li><a href="${escapeHtml(href)}">${LABELS[key] ?? key}</a></li>`)
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>wxpayserver</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>wxpayserver</h1>
<p>${escapeHtml(DESCRIPTION)}</p>
<ul>
${items}
</ul>
<p>Documentation: ${escapeHtml(README)}.</p>
</body></html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
