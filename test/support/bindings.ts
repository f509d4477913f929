/**
 * Test-only configuration (vitest.config.ts passes it to the Worker). The sandbox plays WeChat
 * with the same key, so every signature in the tests is real.
 */
import { MERCHANT_V3_BINDINGS, SANDBOX_V3_BINDINGS } from './v3-keys.ts'

/** The merchant's appids: an official account (the default) and a mini program. */
export const APPIDS = ['wxd930ea5d5a258f4f', 'wx2421b1c4370ec43b'] as const
/** The default appid: the first of WXPAY_APPID. */
export const APPID = APPIDS[0]
/** The other appid bound to the same mch_id. */
export const SECOND_APPID = APPIDS[1]

export const TEST_BINDINGS = {
  WXPAY_APPID: APPID,
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
  ...SANDBOX_V3_BINDINGS,
  ...MERCHANT_V3_BINDINGS,
} as const

/** The same with both appids under the one mch_id (the `two-appids` project in vitest.config.ts). */
export const TWO_APPIDS_BINDINGS = { ...TEST_BINDINGS, WXPAY_APPID: APPIDS.join(',') }

export const TOKEN = 'test-token-new'
/** An OPS_TOKENS token: redeliver and reconciliation. */
export const OPS_TOKEN = 'test-ops-token-new'
