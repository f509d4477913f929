/**
 * @module
 * What `GET /health` reports: every configuration variable that is missing or invalid — by name,
 * with the rule it breaks, never its value — and whether the bindings the service needs are there.
 * It asks nothing of WeChat or the shop, so it is cheap and safe to answer without a token.
 */
import { loadConfig } from './config'
import { PayError } from './errors'
import { isWechatHost } from './wechat/client'

export type Problem = { name: string; message: string }

export type Health = {
  /** `ok` (HTTP 200) when there is no problem, `misconfigured` (HTTP 503) otherwise. */
  status: 'ok' | 'misconfigured'
  problems: Problem[]
  bindings: { ORDERS: boolean; LEDGER: boolean; WXPAY_CERT: boolean }
  /** What does not fail the check but is worth knowing (a refund certificate, the cron). */
  notes: string[]
}

const CRON_NOTE =
  'the Cron Trigger is not visible from inside the Worker: `wrangler deploy` lists it (schedule: 0 3 * * *)'

/**
 * @example const health = checkHealth(env); return c.json(health, health.status === 'ok' ? 200 : 503)
 */
export function checkHealth(env: Env): Health {
  const { problems, complete } = configProblems(env)
  const bindings = {
    ORDERS: typeof env.ORDERS?.get === 'function',
    LEDGER: typeof env.LEDGER?.idFromName === 'function',
    WXPAY_CERT: typeof env.WXPAY_CERT?.fetch === 'function',
  }
  if (!bindings.ORDERS)
    problems.push({ name: 'ORDERS', message: 'ORDERS is not bound: declare the KV namespace in wrangler.toml' })
  if (!bindings.LEDGER)
    problems.push({
      name: 'LEDGER',
      message: 'LEDGER is not bound: declare the OrderLedger Durable Object in wrangler.toml',
    })
  const notes = [CRON_NOTE]
  if (!complete) notes.push('the variables checked after the last problem are not known yet')
  // Refunds need the certificate only where WeChat demands it (not from the sandbox or a simulator).
  const wechat = [env.WXPAY_API_BASE, env.WXPAY_API_BASE_BACKUP].some((base) => !base || isWechatHost(base))
  if (!bindings.WXPAY_CERT && wechat) {
    notes.push('WXPAY_CERT is not bound: refunds to WeChat are refused (wxPayError.config)')
  }
  return { status: problems.length === 0 ? 'ok' : 'misconfigured', problems, bindings, notes }
}

// loadConfig stops at the first bad variable. To name them all, each one found is set aside — a
// required one replaced by a value its rule accepts, an optional one removed so its default applies —
// and the check runs again. The stand-ins exist only in this probe.
const STAND_INS: Record<string, string> = {
  WXPAY_APPID: 'wx0000000000000000',
  WXPAY_MCH_ID: '1000000000',
  WXPAY_API_KEY: '0'.repeat(32),
  API_TOKENS: 'stand-in',
  NOTIFY_SECRET: '0'.repeat(16),
}

/**
 * Every configuration variable that is missing or invalid, in the order loadConfig checks them;
 * `complete` is false when one could not be set aside, so those checked after it are unknown.
 */
export function configProblems(env: Env): { problems: Problem[]; complete: boolean } {
  const probe: Record<string, unknown> = { ...env }
  const problems: Problem[] = []
  for (let round = 0; round < 32; round++) {
    try {
      loadConfig(probe as unknown as Env)
      return { problems, complete: true }
    } catch (err) {
      if (!(err instanceof PayError) || err.failure.kind !== 'config') throw err
      const { message } = err.failure
      const name = /^[A-Z][A-Z0-9_]*/.exec(message)?.[0] ?? 'configuration'
      if (problems.some((problem) => problem.name === name)) break
      problems.push({ name, message })
      if (name in STAND_INS) probe[name] = STAND_INS[name]
      else delete probe[name]
    }
  }
  return { problems, complete: false }
}
