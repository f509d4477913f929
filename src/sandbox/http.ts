/** @module What the sandbox's routes share: their Hono environment and the JSON error body. */

/** Routes see the Worker's env and the SANDBOX namespace, checked once by the index middleware. */
export type SandboxEnv = { Bindings: Env; Variables: { kv: KVNamespace } }

/** A JSON error response, `{"error": {"code", "message"}}`, the same shape as the service's. */
export function jsonError(status: 400 | 404 | 409 | 413 | 500, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status })
}
