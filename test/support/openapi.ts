/**
 * Replies checked against the OpenAPI document the service serves: the route and status must be
 * documented, and the body must match the schema given for them. @cfworker/json-schema interprets
 * schemas (no `new Function`), so it runs in workerd.
 */
import { Validator } from '@cfworker/json-schema'
import { expect } from 'vitest'
import { openapiDocument } from '../../src/openapi/document'
import type { Reply } from './api'

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the document or the service holds
type Json = Record<string, any>

/** The schema the document gives `path`'s reply with `status`, and its media type. */
export function documentedReply(path: string, status: number): { type: string; schema: Json } | undefined {
  const responses = (openapiDocument() as Json).paths[path]?.post?.responses as Json | undefined
  const response = responses?.[String(status)] ?? responses?.[`${String(status)[0]}XX`]
  const [type, media] = Object.entries((response?.content ?? {}) as Json)[0] ?? []
  return type ? { type, schema: media.schema } : undefined
}

const validators = new Map<Json, Validator>()

/** Asserts that `reply` is what the document says `path` answers with that status. */
export function expectDocumented(path: string, reply: Reply): void {
  const documented = documentedReply(path, reply.status)
  expect(documented, `${path} documents no ${reply.status} reply`).toBeDefined()
  const { type, schema } = documented as { type: string; schema: Json }
  expect(reply.headers.get('content-type') ?? '').toContain(type)
  let validator = validators.get(schema)
  if (!validator) {
    validator = new Validator(schema, '2020-12', false)
    validators.set(schema, validator)
  }
  const result = validator.validate(reply.body)
  expect(result.errors, `${path} ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`).toEqual([])
}
