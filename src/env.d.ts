// Secrets and optional variables: `wrangler types` only sees what wrangler.toml declares.
interface Secrets {
  WXPAY_API_KEY?: string
  API_TOKENS?: string
  NOTIFY_SECRET?: string
  WXPAY_TIMEOUT_MS?: string
  RELAY_TIMEOUT_MS?: string
}
interface Env extends Secrets {}
declare namespace Cloudflare {
  interface Env extends Secrets {}
}
