/**
 * The network as tests see it. The Worker's outbound fetch goes through this router, by host:
 *  - api.wechat.test / api2.wechat.test (WXPAY_API_BASE / _BACKUP in tests): the built-in sandbox,
 *    reached over HTTP through the Worker's own entry point, unless a test installs a stand-in;
 *  - service.test: the service itself (where the sandbox delivers notifications);
 *  - shop.test: a shop that acknowledges everything, unless a test installs its own (so a
 *    notification the sandbox retries after its test has ended lands quietly);
 *  - anything else: a test's own handler, or a network error, so no test can reach the internet.
 */
import { exports } from 'cloudflare:workers'
import { afterEach } from 'vitest'

export const SERVICE = 'http://service.test'
export const PRIMARY = 'api.wechat.test'
export const BACKUP = 'api2.wechat.test'

export type Handler = (request: Request) => Response | Promise<Response>

const worker: Handler = (request) => exports.default.fetch(request)
const acknowledge: Handler = () => new Response('<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>')
const defaults: Record<string, Handler> = {
  [PRIMARY]: worker,
  [BACKUP]: worker,
  'service.test': worker,
  'shop.test': acknowledge,
}
const routes = new Map<string, Handler>()

/** Answers requests to `host` with `handler` until the end of the current test. */
export function route(host: string, handler: Handler): void {
  routes.set(host, handler)
}

/** The Worker itself, for stand-ins that pass some requests through to the sandbox. */
export const passThrough: Handler = worker

let installed = false

/** Routes the Worker's fetch through the table above; per-test routes are cleared after each test. */
export function installNetwork(): void {
  // Setup runs once per test file; the isolate (and so the patched fetch) may be shared by several.
  afterEach(() => routes.clear())
  if (installed) return
  installed = true
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    const host = new URL(request.url).host
    const handler = routes.get(host) ?? defaults[host]
    if (!handler) throw new TypeError(`network error: no route to ${host} in tests`)
    return handler(request)
  }
}
