/** @module What the sandbox's routes share: their Hono environment, the JSON error body, input and schedule readers. */
import type { Context } from 'hono'
import { parseSchedule } from './notify'

/** Routes see the Worker's env and the SANDBOX namespace, checked once by the index middleware. */
export type SandboxEnv = { Bindings: Env; Variables: { kv: KVNamespace } }

/** A JSON error response, `{"error": {"code", "message"}}`, the same shape as the service's. */
export function jsonError(status: 400 | 404 | 409 | 413 | 500, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status })
}

/** Form fields or a JSON object; anything else validates as nothing. */
export async function readInput(c: Context<SandboxEnv>): Promise<unknown> {
  const type = c.req.header('content-type') ?? ''
  try {
    return type.includes('application/json') ? await c.req.json() : await c.req.parseBody()
  } catch {
    return undefined
  }
}

/** SANDBOX_NOTIFY_SCHEDULE, or the message saying what is wrong with it. */
export function readSchedule(env: Env): number[] | string {
  try {
    return parseSchedule(env.SANDBOX_NOTIFY_SCHEDULE)
  } catch (err) {
    return (err as Error).message
  }
}
