/// <reference types="node" />
/**
 * The OpenAPI document (src/openapi) against the OpenAPI 3.1 schema, with a real validator, and every
 * example in it against the schema it illustrates. Runs in Node: the validator compiles its schemas
 * with `new Function`, which workerd does not allow; test/openapi.test.ts checks live replies there.
 */
import { Validator as JsonSchemaValidator } from '@cfworker/json-schema'
import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { openapiDocument } from '../../src/openapi/document'

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the document or the service holds
type Json = Record<string, any>
const document = openapiDocument() as Json

/** Every media type object with an example, named by where it is. */
function examples(): [string, Json, unknown][] {
  const found: [string, Json, unknown][] = []
  const operations = [
    ...Object.entries(document.paths as Json).map(([path, item]) => [path, item.post] as const),
    ...Object.entries(document.webhooks as Json).map(([name, item]) => [`webhook ${name}`, item.post] as const),
  ]
  for (const [where, operation] of operations) {
    for (const [type, media] of Object.entries((operation.requestBody?.content ?? {}) as Json)) {
      if ('example' in media) found.push([`${where} request ${type}`, media.schema, media.example])
    }
    for (const [status, response] of Object.entries((operation.responses ?? {}) as Json)) {
      for (const [type, media] of Object.entries((response.content ?? {}) as Json)) {
        if ('example' in media) found.push([`${where} ${status} ${type}`, media.schema, media.example])
      }
    }
    for (const parameter of operation.parameters ?? []) {
      if ('example' in parameter) found.push([`${where} header ${parameter.name}`, parameter.schema, parameter.example])
    }
  }
  return found
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(document)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    // The validator is live: a broken document fails.
    const broken = { ...document, paths: { '/v1/pay/params': { post: { responses: { 200: {} } } } } }
    expect((await new Validator().validate(broken)).valid).toBe(false)
  })

  it('documents every /v1/pay route, the relay webhook and its signature header', () => {
    expect(Object.keys(document.paths)).toEqual([
      '/v1/pay/params',
      '/v1/pay/unified',
      '/v1/pay/queryOrder',
      '/v1/pay/closeOrder',
      '/v1/pay/notify',
      '/v1/pay/refund',
      '/v1/pay/refundQuery',
      '/v1/pay/notify/refund',
      '/v1/pay/redeliver',
      '/v1/pay/reconciliation',
    ])
    const relay = document.webhooks.relay.post
    expect(relay.parameters[0]).toMatchObject({ name: 'Wxpay-Signature', in: 'header', required: true })
    const types = relay.requestBody.content['application/json'].schema.oneOf.map(
      (event: Json) => event.properties.type.const,
    )
    expect(types).toEqual(['payment', 'refund'])
  })

  it('states each route’s error codes with the status errors.ts gives them', () => {
    const params = document.paths['/v1/pay/params'].post.responses
    expect(Object.keys(params)).toEqual(['200', '400', '401', '403', '405', '409', '413', '500', '502', '503', '504'])
    expect(params['409'].content['application/json'].schema.properties.error.properties.code.enum).toEqual([
      'OUT_TRADE_NO_USED',
      'ORDERPAID',
      'ORDERCLOSED',
      'INVALID_REQUEST',
    ])
    expect(params['500'].content['application/json'].schema.properties.error.properties.code.enum).toEqual([
      'wxPayError.config',
      'wxPayError.internal',
    ])
    // Any other WeChat err_code arrives with 502, so that code is open.
    expect(params['502'].content['application/json'].schema.properties.error.properties.code.type).toBe('string')
    expect(document.paths['/v1/pay/queryOrder'].post.responses['404'].description).toBe('ORDERNOTEXIST')
  })

  it('states the field rules the routes apply', () => {
    const fields = document.paths['/v1/pay/params'].post.requestBody.content['application/x-www-form-urlencoded'].schema
    expect(fields.required).toEqual(['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'openid'])
    expect(fields.additionalProperties).toBe(false)
    expect(fields.properties.total_fee).toMatchObject({
      type: 'string',
      pattern: '^[1-9][0-9]{0,14}$',
      description: 'must be a positive integer number of fen, at most 15 digits (999999999999999)',
    })
  })

  const all = examples()
  it('has examples to check', () => expect(all.length).toBeGreaterThan(20))
  it.each(all)('example: %s matches its schema', (_, schema, example) => {
    const result = new JsonSchemaValidator(schema, '2020-12', false).validate(example)
    expect(result.errors).toEqual([])
  })

  it('catches an example that does not match (the check is live)', () => {
    const [, schema] = all.find(([where]) => where === '/v1/pay/params 200 application/json') ?? []
    const result = new JsonSchemaValidator(schema as Json, '2020-12', false).validate({ data: { appId: 1 } })
    expect(result.valid).toBe(false)
  })
})
