/**
 * Secrets never leave the service: every console line and every response body the Worker produces
 * while a test file runs is captured, and the file fails if WXPAY_API_KEY, NOTIFY_SECRET or a
 * token of API_TOKENS or OPS_TOKENS appears in any of them.
 */
import { env, exports } from 'cloudflare:workers'
import { afterAll, expect, onTestFinished } from 'vitest'

const secrets = [
  env.WXPAY_API_KEY,
  env.NOTIFY_SECRET,
  ...String(env.API_TOKENS).split(','),
  ...String(env.OPS_TOKENS).split(','),
  // API v3: the APIv3 key, and a line from the middle of the merchant's private key.
  (env as unknown as Record<string, unknown>).WXPAY_APIV3_KEY,
  String((env as unknown as Record<string, unknown>).WXPAY_PRIVATE_KEY ?? '').split('\n')[5],
].filter((value): value is string => typeof value === 'string' && value.length > 0)

const seen: string[] = []
let echo = true
let captured: string[] | undefined

/** Keeps the current test's console output off the terminal (it is still checked for secrets). */
export function quietLogs(): void {
  echo = false
  onTestFinished(() => {
    echo = true
  })
}

/**
 * Captures the console lines of the current test instead of printing them (they are still checked
 * for secrets), so the test can assert on the lines it expects. JSON lines are parsed.
 * @example const logs = captureLogs(); …; expect(logs()).toContainEqual(expect.objectContaining({ reason: 'bad_signature' }))
 */
export function captureLogs(): () => unknown[] {
  quietLogs()
  const lines: string[] = []
  captured = lines
  onTestFinished(() => {
    captured = undefined
  })
  return () =>
    lines.map((line) => {
      try {
        return JSON.parse(line)
      } catch {
        return line
      }
    })
}

/** How many console lines and response bodies were checked, so the check is known to be live. */
export const checked = { logs: 0, responses: 0 }

let watching = false

export function watchForSecrets(): void {
  // Setup runs once per test file: wrap once per isolate, check after every file.
  afterAll(() => {
    for (const text of seen.splice(0)) {
      for (const secret of secrets)
        expect(text.includes(secret), 'a secret appeared in a log line or a response').toBe(false)
    }
  })
  if (watching) return
  watching = true
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console)
    console[method] = (...args: unknown[]) => {
      checked.logs += 1
      const line = args.map((arg) => (typeof arg === 'string' ? arg : safeJson(arg))).join(' ')
      seen.push(line)
      captured?.push(line)
      // The service's info lines narrate normal operation (a payment recorded, a retry run):
      // checked like every line, printed only when they are warnings or errors.
      if (echo && (method === 'warn' || method === 'error')) original(...args)
    }
  }
  const worker = exports.default
  const fetchWorker = worker.fetch.bind(worker)
  worker.fetch = (async (...args: Parameters<typeof fetchWorker>) => {
    const response = await fetchWorker(...args)
    checked.responses += 1
    seen.push(await bodyText(response.clone()))
    return response
  }) as typeof fetchWorker
  afterAll(() => {
    for (const text of seen) {
      for (const secret of secrets)
        expect(text.includes(secret), 'a secret appeared in a log line or a response').toBe(false)
    }
  })
}

/** The body as text; a gzip body (the sandbox's bill with tar_type=GZIP) is checked once inflated. */
async function bodyText(response: Response): Promise<string> {
  const gzip = /^application\/(x-)?gzip\b/i.test(response.headers.get('content-type') ?? '')
  const body = gzip ? response.body?.pipeThrough(new DecompressionStream('gzip')) : response.body
  return body ? new TextDecoder().decode(await new Response(body).arrayBuffer()) : ''
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message} ${value.stack ?? ''}` : JSON.stringify(value)
  } catch {
    return String(value)
  }
}
