/**
 * Test-only configuration (vitest.config.ts passes it to the Worker). The sandbox plays WeChat
 * with the same key, so every signature in the tests is real.
 */

/** The merchant's appids: an official account (the default) and a mini program. */
export const APPIDS = ['wxd930ea5d5a258f4f', 'wx2421b1c4370ec43b'] as const
/** The default appid: the first of WXPAY_APPID. */
export const APPID = APPIDS[0]
/** The other appid bound to the same mch_id. */
export const SECOND_APPID = APPIDS[1]

export const TEST_BINDINGS = {
  WXPAY_APPID: APPIDS.join(','),
  WXPAY_MCH_ID: '10000100',
  WXPAY_API_KEY: 'test0key0test0key0test0key0test0',
  WXPAY_SIGN_TYPE: 'HMAC-SHA256',
  WXPAY_API_BASE: 'http://api.wechat.test/sandbox',
  WXPAY_API_BASE_BACKUP: 'http://api2.wechat.test/sandbox',
  WXPAY_TIMEOUT_MS: '3000',
  RELAY_TIMEOUT_MS: '3000',
  API_TOKENS: 'test-token-old,test-token-new',
  OPS_TOKENS: 'test-ops-token-old,test-ops-token-new',
  NOTIFY_SECRET: 'test-notify-secret-0123456789',
  WXPAY_SANDBOX: 'on',
  SANDBOX_NOTIFY_SCHEDULE: '0.05,0.05,0.05',
  // Long enough never to fire during a test: tests run the ledger's alarm themselves (runAlarm).
  RECOVERY_SCHEDULE: '600,1200,1800',
  RELAY_RETRY_SCHEDULE: '600,1200,1800',
  REFUND_CHECK_SCHEDULE: '600,1200',
} as const

/** The same with one appid, as most deployments have (the `one-appid` project in vitest.config.ts). */
export const ONE_APPID_BINDINGS = { ...TEST_BINDINGS, WXPAY_APPID: APPID }

export const TOKEN = 'test-token-new'
/** An OPS_TOKENS token: redeliver and reconciliation. */
export const OPS_TOKEN = 'test-ops-token-new'
