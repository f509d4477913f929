/**
 * @module
 * The OpenAPI 3.1 document, built from the route table (routes.ts) on first use and kept: request
 * schemas are the zod schemas the routes validate with (`z.toJSONSchema`), and every error status and
 * code comes from the one mapping in errors.ts, so the document cannot drift from the service.
 */
import * as z from 'zod/mini'
import { scopeOf } from '../auth'
import { ERROR_BODY, EVERY_JSON_ROUTE, errorResponses } from './errors'
import { RELAY_EVENTS, ROUTES, type RouteDoc } from './routes'

type Json = Record<string, unknown>

const XML_REPLY = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

let cached: Json | undefined

/**
 * The document (built once per isolate); with `server`, the service's public origin as its one
 * `servers` entry, so generated clients and the reference page call the service where it runs.
 * @example openapiDocument({ server: 'https://pay.example.com' })
 */
export function openapiDocument(options: { server?: string } = {}): Json {
  cached ??= build()
  return options.server ? { ...cached, servers: [{ url: options.server }] } : cached
}

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) for one side of a zod schema. */
export function jsonSchema(schema: z.ZodMiniType, io: 'input' | 'output' = 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json
  return rest
}

function build(): Json {
  return {
    openapi: '3.1.1',
    info: {
      title: 'wxpayserver',
      version: '1',
      description:
        'WeChat Pay v2 for shops: plain form fields (or JSON) in, JSON out. Success is `{"data": …}`, failure `{"error": {"code", "message"}}`.',
    },
    paths: Object.fromEntries(ROUTES.map((route) => [route.path, { post: operation(route) }])),
    webhooks: { relay: { post: relayOperation() } },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'one of API_TOKENS (scope pay)' },
        ops: {
          type: 'http',
          scheme: 'bearer',
          description: 'one of OPS_TOKENS (scope ops); one of API_TOKENS while OPS_TOKENS is not set',
        },
      },
      schemas: { Error: ERROR_BODY },
    },
  }
}

function operation(route: RouteDoc): Json {
  const operationId = route.path.slice('/v1/pay/'.length).replace(/\//g, '_')
  const base = { operationId, summary: route.summary, description: route.description }
  if ('xml' in route.request) {
    const xml = {
      'text/xml': { schema: { type: 'string', description: route.request.xml }, example: route.request.example },
    }
    return {
      ...base,
      security: [],
      requestBody: { required: true, content: xml },
      responses: {
        200: {
          description: 'SUCCESS once the shop has the event; FAIL (WeChat retries) otherwise',
          content: { 'text/xml': { schema: { type: 'string' }, example: XML_REPLY } },
        },
        413: {
          description: 'the body is over 16 KB (FAIL XML)',
          content: { 'text/xml': { schema: { type: 'string' } } },
        },
        ...errorResponses(['methodNotAllowed'], []),
      },
    }
  }
  const schema = jsonSchema(route.request.fields, 'input')
  const fields = { schema, example: route.request.example }
  return {
    ...base,
    security: [{ [scopeOf(route.path) === 'ops' ? 'ops' : 'bearer']: [] }],
    requestBody: {
      required: true,
      description: 'UTF-8 fields; empty values count as absent, unknown fields are refused.',
      content: { 'application/x-www-form-urlencoded': fields, 'application/json': fields },
    },
    responses: {
      ...(route.reply && { 200: replyDoc('success', route.reply) }),
      ...(route.accepted && { 202: replyDoc('started or joined, still running', route.accepted) }),
      ...errorResponses([...EVERY_JSON_ROUTE, ...route.failures], route.wechatCodes),
    },
  }
}

function replyDoc(description: string, reply: { data: z.ZodMiniType; example: object }): Json {
  const schema = {
    type: 'object',
    required: ['data'],
    additionalProperties: false,
    properties: { data: jsonSchema(reply.data) },
  }
  return { description, content: { 'application/json': { schema, example: { data: reply.example } } } }
}

function relayOperation(): Json {
  const events = Object.entries(RELAY_EVENTS).map(([type, data]) => ({
    type: 'object',
    required: ['type', 'data'],
    additionalProperties: false,
    properties: { type: { const: type }, data: jsonSchema(data) },
  }))
  return {
    operationId: 'relay',
    summary: "The event relayed to the order's notify_url",
    description:
      "POSTed as JSON once the service has verified WeChat's notification. Verify `Wxpay-Signature` before trusting it: `v1` is the lower-case hex HMAC-SHA256, keyed with NOTIFY_SECRET, of `<t>.<raw body>`; while the secret rotates there is one `v1` per secret, and any match counts. Refuse a `t` more than 300 s away. Delivered at least once: deduplicate by transaction_id.",
    parameters: [
      {
        name: 'Wxpay-Signature',
        in: 'header',
        required: true,
        schema: { type: 'string', pattern: '^t=[0-9]+(,v1=[0-9a-f]{64}){1,2}$' },
        example: 't=1795772205,v1=5f0c7e2a9b1d4c6e8f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e',
      },
    ],
    requestBody: { required: true, content: { 'application/json': { schema: { oneOf: events } } } },
    responses: {
      '2XX': { description: 'received; any other answer, or none within RELAY_TIMEOUT_MS, is tried again' },
    },
  }
}
