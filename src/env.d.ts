// Secrets and optional variables: `wrangler types` only sees what wrangler.toml declares.
interface Secrets {
  /** The merchant's client certificate (mTLS binding) for /secapi/pay/refund; see README "Certificates". */
  WXPAY_CERT?: Fetcher

  WXPAY_API_KEY?: string
  API_TOKENS?: string
  OPS_TOKENS?: string
  NOTIFY_SECRET?: string
  WXPAY_TIMEOUT_MS?: string
  RELAY_TIMEOUT_MS?: string
  RECOVERY_SCHEDULE?: string
  RELAY_RETRY_SCHEDULE?: string
  REFUND_CHECK_SCHEDULE?: string
}
interface Env extends Secrets {}
declare namespace Cloudflare {
  interface Env extends Secrets {}
}
