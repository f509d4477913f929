/**
 * @module
 * The environment, validated once per isolate: a missing or malformed variable is reported by
 * name (`wxPayError.config`), never guessed around. Secret values never appear in messages.
 */
import { fail } from './errors'
import { SIGN_TYPES, type SignType } from './wechat/sign'

export type Config = {
  /** WXPAY_API_VERSION: which WeChat Pay API the service speaks (v2 unless set). */
  apiVersion: 'v2' | 'v3'
  /** The APIv3 credentials; present exactly when apiVersion is v3. */
  v3: V3Config | undefined
  /** The default appid: the first of WXPAY_APPID, used when a request names none. */
  appid: string
  /** Every appid bound to the merchant (WXPAY_APPID, comma-separated): official account, mini program, app. */
  appids: readonly string[]
  mchId: string
  /**
   * WXPAY_API_KEY. Under v3 it is optional (set, v2 notifications of orders placed before the switch
   * keep being accepted); unset, it is a random key of this isolate, so no v2 signature ever verifies.
   */
  apiKey: string
  signType: SignType
  apiBase: string
  apiBaseBackup: string
  timeoutMs: number
  apiTokens: string[]
  /** OPS_TOKENS: redeliver and reconciliation. Empty when not set: those routes then take apiTokens. */
  opsTokens: string[]
  /** NOTIFY_SECRET, comma-separated: every relay is signed with each (one `v1=` per secret). */
  notifySecrets: string[]
  relayTimeoutMs: number
  publicUrl: string | undefined
  sandbox: boolean
  /** Seconds after placement at which an unpaid order asks WeChat about itself (orderquery). */
  recoverySchedule: number[]
  /** Seconds after the first failed relay at which the ledger relays again. */
  relayRetrySchedule: number[]
  /** Seconds after a refund request at which a refund still PROCESSING asks WeChat (refundquery). */
  refundCheckSchedule: number[]
  /** How long `POST /v1/pay/reconciliation` waits for a run before answering 202 with its progress. */
  reconciliationWaitMs: number
  /** LEDGER_RETENTION_DAYS: a paid order's ledger storage is archived this many days after its last change. */
  ledgerRetentionDays: number
  /** UNPAID_RETENTION_DAYS: the same for an order never paid (unpaid, closed). */
  unpaidRetentionDays: number
}

/** What APIv3 needs besides the merchant number and appid (v3 reference §2). */
export type V3Config = {
  /** WXPAY_MCH_SERIAL: the serial of the merchant's API certificate (`serial_no` in Authorization). */
  mchSerial: string
  /** WXPAY_PRIVATE_KEY: `apiclient_key.pem`, PKCS#8 or PKCS#1. */
  privateKey: string
  /** WXPAY_APIV3_KEY: 32 characters; decrypts notifications and platform certificates. */
  apiV3Key: string
  /** WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY (public-key mode); absent means platform-certificate mode. */
  publicKey: { id: string; pem: string } | undefined
}

/** 5 min, 30 min, and just after the prepay_id's two hours (reference §3.2). */
export const DEFAULT_RECOVERY_SCHEDULE = [300, 1800, 7500]
/** 1 min … 3 days, like the webhook retries shops know from other payment services. */
export const DEFAULT_RELAY_RETRY_SCHEDULE = [60, 300, 1800, 7200, 21600, 43200, 86400, 172800, 259200]
/** Refunds usually settle within minutes; bank cards can take days. */
export const DEFAULT_REFUND_CHECK_SCHEDULE = [600, 3600, 21600, 86400, 259200, 604800]
/** WeChat takes refunds for a year after payment (v3: 365 days; refunds reference §1.3), plus a month. */
export const DEFAULT_LEDGER_RETENTION_DAYS = 400
export const DEFAULT_UNPAID_RETENTION_DAYS = 30

const VARIABLES = [
  'WXPAY_APPID',
  'WXPAY_MCH_ID',
  'WXPAY_API_KEY',
  'WXPAY_SIGN_TYPE',
  'WXPAY_API_BASE',
  'WXPAY_API_BASE_BACKUP',
  'WXPAY_TIMEOUT_MS',
  'API_TOKENS',
  'OPS_TOKENS',
  'NOTIFY_SECRET',
  'RELAY_TIMEOUT_MS',
  'PUBLIC_URL',
  'WXPAY_SANDBOX',
  'RECOVERY_SCHEDULE',
  'RELAY_RETRY_SCHEDULE',
  'REFUND_CHECK_SCHEDULE',
  'WXPAY_API_VERSION',
  'WXPAY_MCH_SERIAL',
  'WXPAY_PRIVATE_KEY',
  'WXPAY_APIV3_KEY',
  'WXPAY_PUBLIC_KEY_ID',
  'WXPAY_PUBLIC_KEY',
  'RECONCILIATION_WAIT_MS',
  'LEDGER_RETENTION_DAYS',
  'UNPAID_RETENTION_DAYS',
] as const

// Validated configurations by their variables' values: the same values are checked once per isolate,
// whether or not the runtime hands every request the same env object.
const cache = new Map<string, Config>()

/**
 * Reads and checks every variable the service needs.
 * @throws {PayError} `config`, naming the first variable that is missing or invalid.
 */
export function loadConfig(env: Env): Config {
  // The runtime hands every request the same env object: known, it skips building the key.
  const known = byEnv.get(env)
  if (known) return known
  const config = loadFresh(env)
  byEnv.set(env, config)
  return config
}
const byEnv = new WeakMap<Env, Config>()

function loadFresh(env: Env): Config {
  const key = VARIABLES.map((name) => raw(env, name) ?? '').join('\u0000')
  const cached = cache.get(key)
  if (cached) return cached
  const apiVersion = oneOf(env, 'WXPAY_API_VERSION', ['v2', 'v3'] as const, 'v2')
  const v3 = apiVersion === 'v3' ? v3Config(env) : undefined
  const ids = appids(env)
  const config: Config = {
    apiVersion,
    v3,
    appid: ids[0] as string,
    appids: ids,
    mchId: text(env, 'WXPAY_MCH_ID', /^[0-9]{1,32}$/, 'a merchant number of up to 32 digits'),
    apiKey:
      v3 && raw(env, 'WXPAY_API_KEY') === undefined
        ? unknownKey()
        : text(env, 'WXPAY_API_KEY', /^[\x21-\x7e]{32}$/, 'the 32-character APIv2 key', true),
    signType: oneOf(env, 'WXPAY_SIGN_TYPE', SIGN_TYPES, 'HMAC-SHA256'),
    apiBase: url(env, 'WXPAY_API_BASE', 'https://api.mch.weixin.qq.com'),
    apiBaseBackup: url(env, 'WXPAY_API_BASE_BACKUP', 'https://api2.mch.weixin.qq.com'),
    timeoutMs: millis(env, 'WXPAY_TIMEOUT_MS', 5000),
    apiTokens: tokens(env),
    opsTokens: opsTokens(env),
    notifySecrets: notifySecrets(env),
    relayTimeoutMs: millis(env, 'RELAY_TIMEOUT_MS', 5000),
    publicUrl: publicUrl(env, apiVersion),
    sandbox: oneOf(env, 'WXPAY_SANDBOX', ['on', 'off'] as const, 'off') === 'on',
    recoverySchedule: schedule(env, 'RECOVERY_SCHEDULE', DEFAULT_RECOVERY_SCHEDULE),
    relayRetrySchedule: schedule(env, 'RELAY_RETRY_SCHEDULE', DEFAULT_RELAY_RETRY_SCHEDULE),
    refundCheckSchedule: schedule(env, 'REFUND_CHECK_SCHEDULE', DEFAULT_REFUND_CHECK_SCHEDULE),
    reconciliationWaitMs: millis(env, 'RECONCILIATION_WAIT_MS', 10_000),
    // Counted from the last change, never before payment; a leap year's 366 days and a day of slack.
    ledgerRetentionDays: days(env, 'LEDGER_RETENTION_DAYS', DEFAULT_LEDGER_RETENTION_DAYS, 367),
    // WeChat retries a notification for 24h4m (refunds reference §3.4): 2 days outlast it.
    unpaidRetentionDays: days(env, 'UNPAID_RETENTION_DAYS', DEFAULT_UNPAID_RETENTION_DAYS, 2),
  }
  if (cache.size >= 8) cache.clear()
  cache.set(key, config)
  return config
}

// Known to no one: under v3 without WXPAY_API_KEY, every v2 signature check fails. Made on first
// use: a Worker may not generate random values at global scope.
let isolateKey: string | undefined
function unknownKey(): string {
  isolateKey ??= (crypto.randomUUID() + crypto.randomUUID()).replaceAll('-', '').slice(0, 32)
  return isolateKey
}

function v3Config(env: Env): V3Config {
  const id = raw(env, 'WXPAY_PUBLIC_KEY_ID')
  const pem = raw(env, 'WXPAY_PUBLIC_KEY')
  if ((id === undefined) !== (pem === undefined)) {
    throw fail(
      'config',
      `${id === undefined ? 'WXPAY_PUBLIC_KEY_ID' : 'WXPAY_PUBLIC_KEY'} is not set: set both WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY (public-key mode), or neither (platform-certificate mode)`,
    )
  }
  return {
    mchSerial: text(env, 'WXPAY_MCH_SERIAL', /^[0-9A-Fa-f]{8,64}$/, "the merchant API certificate's serial (hex)"),
    privateKey: text(env, 'WXPAY_PRIVATE_KEY', PRIVATE_PEM, 'the PEM text of apiclient_key.pem', true),
    apiV3Key: text(
      env,
      'WXPAY_APIV3_KEY',
      /^[0-9A-Za-z]{32}$/,
      'the 32-character APIv3 key (letters and digits)',
      true,
    ),
    publicKey:
      id === undefined
        ? undefined
        : {
            id: text(env, 'WXPAY_PUBLIC_KEY_ID', /^PUB_KEY_ID_[0-9]{1,64}$/, 'PUB_KEY_ID_ followed by digits'),
            pem: text(env, 'WXPAY_PUBLIC_KEY', PUBLIC_PEM, 'the PEM text of the WeChat Pay public key (pub_key.pem)'),
          },
  }
}

const PRIVATE_PEM = /^\s*-----BEGIN (RSA )?PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END (RSA )?PRIVATE KEY-----\s*$/
const PUBLIC_PEM = /^\s*-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----\s*$/

/** v3 requires an https notify_url (v3 reference §5.3): the service's own URL must be https then. */
function publicUrl(env: Env, apiVersion: 'v2' | 'v3'): string | undefined {
  if (!env.PUBLIC_URL) return undefined
  const value = url(env, 'PUBLIC_URL', '')
  if (apiVersion === 'v3' && !value.startsWith('https://'))
    throw fail(
      'config',
      'PUBLIC_URL must be an https URL under WXPAY_API_VERSION=v3 (WeChat Pay v3 notifies https only)',
    )
  return value
}

function raw(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function text(env: Env, name: string, pattern: RegExp, rule: string, secret = false): string {
  const value = raw(env, name)
  if (value === undefined)
    throw fail('config', `${name} is not set${secret ? ' (set it with `wrangler secret put`)' : ''}`)
  if (!pattern.test(value)) throw fail('config', `${name} must be ${rule}`)
  return value
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name) ?? fallback
  if (!(allowed as readonly string[]).includes(value))
    throw fail('config', `${name} must be one of ${allowed.join(', ')}`)
  return value as T
}

function url(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback
  if (!/^https?:\/\/[^\s]+$/.test(value) || !URL.canParse(value)) throw fail('config', `${name} must be an http(s) URL`)
  return value.replace(/\/+$/, '')
}

function millis(env: Env, name: string, fallback: number): number {
  const value = raw(env, name)
  if (value === undefined) return fallback
  if (!/^[1-9][0-9]{0,5}$/.test(value) || Number(value) > 60_000) {
    throw fail('config', `${name} must be a whole number of milliseconds from 1 to 60000`)
  }
  return Number(value)
}

/** Whole days from `min` to 36500; fractions are refused (tests run the retention task by its alarm). */
function days(env: Env, name: string, fallback: number, min: number): number {
  const value = raw(env, name)
  if (value === undefined) return fallback
  if (!/^[1-9][0-9]{0,4}$/.test(value) || Number(value) < min || Number(value) > 36500)
    throw fail('config', `${name} must be a whole number of days from ${min} to 36500`)
  return Number(value)
}

/** Increasing seconds (fractions allowed, for dev and tests), up to 20 of them, at most 30 days. */
function schedule(env: Env, name: string, fallback: number[]): number[] {
  const value = raw(env, name)
  if (value === undefined) return fallback
  const parts = value.split(',').map((part) => part.trim())
  const seconds = parts.map(Number)
  const valid =
    parts.length <= 20 &&
    parts.every((part) => /^[0-9]{1,7}(\.[0-9]{1,3})?$/.test(part)) &&
    seconds.every((s, i) => s > 0 && s <= 30 * 86400 && (i === 0 || s > (seconds[i - 1] as number)))
  if (!valid) {
    throw fail('config', `${name} must be up to 20 increasing numbers of seconds, comma-separated (e.g. 300,1800,7500)`)
  }
  return seconds
}

/** At most this many appids per merchant: far above the official account, mini program and app a shop has. */
export const MAX_APPIDS = 10

/** WXPAY_APPID: the appids bound to the one mch_id, comma-separated; the first is the default. */
function appids(env: Env): readonly string[] {
  if (raw(env, 'WXPAY_APPID') === undefined) throw fail('config', 'WXPAY_APPID is not set')
  const list = (raw(env, 'WXPAY_APPID') as string).split(',').map((appid) => appid.trim())
  const rule = `WXPAY_APPID must be up to ${MAX_APPIDS} distinct appids of up to 32 letters and digits, comma-separated`
  if (list.length > MAX_APPIDS || !list.every((appid) => /^[A-Za-z0-9_]{1,32}$/.test(appid))) throw fail('config', rule)
  if (new Set(list).size !== list.length) throw fail('config', `${rule} (one is listed twice)`)
  return Object.freeze(list)
}

function notifySecrets(env: Env): string[] {
  const value = raw(env, 'NOTIFY_SECRET')
  if (value === undefined) throw fail('config', 'NOTIFY_SECRET is not set (set it with `wrangler secret put`)')
  const list = value.split(',').map((secret) => secret.trim())
  if (list.length > 2 || !list.every((secret) => /^[\x21-\x2b\x2d-\x7e]{16,}$/.test(secret))) {
    throw fail(
      'config',
      'NOTIFY_SECRET must be one secret, or two separated by a comma, each at least 16 printable characters',
    )
  }
  return list
}

function tokenList(env: Env, name: 'API_TOKENS' | 'OPS_TOKENS'): string[] {
  return (raw(env, name) ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '')
}

function tokens(env: Env): string[] {
  const list = tokenList(env, 'API_TOKENS')
  if (list.length === 0)
    throw fail('config', 'API_TOKENS is not set (comma-separated bearer tokens; `wrangler secret put API_TOKENS`)')
  return list
}

/** Optional; when set, it must hold a token, and none of API_TOKENS (a shared token has both scopes). */
function opsTokens(env: Env): string[] {
  if (raw(env, 'OPS_TOKENS') === undefined) return []
  const list = tokenList(env, 'OPS_TOKENS')
  if (list.length === 0)
    throw fail('config', 'OPS_TOKENS must be comma-separated bearer tokens (`wrangler secret put OPS_TOKENS`)')
  const api = tokenList(env, 'API_TOKENS')
  if (list.some((token) => api.includes(token)))
    throw fail('config', 'OPS_TOKENS must not repeat a token of API_TOKENS: give operators their own')
  return list
}
