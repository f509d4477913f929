/**
 * @module
 * Error responses for the OpenAPI document, from the one mapping in errors.ts: each status a route
 * can answer with, and the codes that come with it.
 */
import { describe, type FailureKind } from '../errors'

type Json = Record<string, unknown>

/** Failures every route behind the bearer token can answer. */
export const EVERY_JSON_ROUTE: readonly FailureKind[] = [
  'params',
  'unauthorized',
  'forbidden',
  'methodNotAllowed',
  'tooLarge',
  'config',
  'internal',
]

export const ERROR_BODY: Json = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: { code: { type: 'string' }, message: { type: 'string', description: 'says what to fix' } },
    },
  },
}

/** Error responses by status, each with the codes errors.ts gives that status. */
export function errorResponses(kinds: readonly FailureKind[], wechatCodes: readonly string[]): Json {
  const byStatus = new Map<number, string[]>()
  const add = (status: number, code: string) => byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  for (const kind of kinds) {
    const { status, body } = describe({ kind, message: '' })
    add(status, body.error.code)
  }
  for (const errCode of wechatCodes) add(describe({ kind: 'wechat', errCode, message: '' }).status, errCode)
  // Any other WeChat err_code (NOAUTH, NOTENOUGH, …) is passed on with 502.
  const otherWechat = wechatCodes.length > 0
  const responses: Json = {}
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const open = status === 502 && otherWechat
    const code = open ? { type: 'string', examples: codes } : { enum: codes }
    responses[status] = {
      description: open ? `${codes.join(', ')}, or another WeChat err_code` : codes.join(', '),
      content: {
        'application/json': {
          schema: { ...ERROR_BODY, properties: { error: withCode(code) } },
          example: { error: { code: codes[0], message: 'what went wrong and what to fix' } },
        },
      },
    }
  }
  return responses
}

function withCode(code: Json): Json {
  const error = (ERROR_BODY.properties as { error: Json }).error
  return { ...error, properties: { ...(error.properties as Json), code } }
}
