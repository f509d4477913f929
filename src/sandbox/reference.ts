/**
 * @module
 * `GET /reference`: the API reference, a plain HTML page rendered on the server from the OpenAPI
 * document (/openapi.json): every route with its fields, their rules and its answers. No script and
 * nothing from another origin, so it works offline; the document it links is the full description.
 */
import { Hono } from 'hono'
import { openapiDocument } from '../openapi/document'
import type { SandboxEnv } from './http'

export const reference = new Hono<SandboxEnv>()

reference.get('/reference', (c) => c.html(renderReference()))

type Json = Record<string, unknown>
type Operation = {
  summary?: string
  description?: string
  security?: unknown[]
  requestBody?: { content?: Record<string, { schema?: Json }> }
  responses?: Record<string, { description?: string }>
}

let cached: string | undefined

/** The page (rendered once per isolate: the document does not change while it runs). */
export function renderReference(): string {
  cached ??= render(openapiDocument())
  return cached
}

function render(document: Json): string {
  const info = document.info as { title: string; description: string }
  const paths = document.paths as Record<string, { post: Operation }>
  const toc = Object.keys(paths)
    .map((path) => `<li><a href="#${anchor(path)}"><code>POST ${path}</code></a></li>`)
    .join('\n')
  const sections = Object.entries(paths)
    .map(([path, { post }]) => operation(path, post))
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(info.title)} API reference</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem }
table { border-collapse: collapse; width: 100% } td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top }
code { background: #f3f3f3; padding: 0 .2rem } h2 { margin-top: 2.5rem }
</style></head>
<body>
<h1>${text(info.title)} API reference</h1>
<p>${prose(info.description)}</p>
<p>The full description, with every schema and example: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
Generate a client from it, or read it here.</p>
<ul>
${toc}
</ul>
${sections}
</body></html>
`
}

function operation(path: string, op: Operation): string {
  const token = op.security?.length === 0 ? 'no token' : '<code>Authorization: Bearer &lt;token&gt;</code>'
  const content = op.requestBody?.content ?? {}
  const fields = fieldRows(Object.values(content)[0]?.schema ?? {})
  const responses = Object.entries(op.responses ?? {})
    .map(([status, { description }]) => `<tr><td>${text(status)}</td><td>${prose(description ?? '')}</td></tr>`)
    .join('\n')
  return `<h2 id="${anchor(path)}"><code>POST ${text(path)}</code></h2>
<p><strong>${prose(op.summary ?? '')}</strong> (${token}; ${text(Object.keys(content).join(' or '))})</p>
<p>${prose(op.description ?? '')}</p>
${fields}
<table><tr><th>status</th><th>answer</th></tr>
${responses}
</table>`
}

function fieldRows(schema: Json): string {
  const properties = schema.properties as Record<string, Json> | undefined
  if (!properties) return schema.description ? `<p>Body: ${prose(String(schema.description))}</p>` : ''
  const required = new Set((schema.required as string[] | undefined) ?? [])
  const rows = Object.entries(properties)
    .map(
      ([name, field]) =>
        `<tr><td><code>${text(name)}</code></td><td>${required.has(name) ? 'yes' : 'no'}</td><td>${prose(String(field.description ?? ''))}</td></tr>`,
    )
    .join('\n')
  return `<table><tr><th>field</th><th>required</th><th>rule</th></tr>
${rows}
</table>`
}

function anchor(path: string): string {
  return path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')
}

/** Escaped text with `backticks` shown as code, the way the document's descriptions are written. */
function prose(value: string): string {
  return text(value).replace(/`([^`]+)`/g, '<code>$1</code>')
}

function text(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
