/**
 * @module
 * Placing an order (统一下单) through its ledger: the same order sent again is answered from the
 * record while the prepay_id is valid; the same out_trade_no with other parameters never reaches
 * WeChat. The fingerprint covers what the shop asked for, not the host the request came in on.
 */
import type { Config } from '../config'
import { fail } from '../errors'
import type { PlaceRequest } from '../ledger/ledger'
import type { OrderRecord } from '../ledger/record'
import { ledgerOf, unwrap } from '../ledger/stub'
import { sha256Hex } from '../wechat/sign'
import { checkTradeNo } from './fields'
import type { OrderInput } from './schemas'

export type PlaceDeps = { config: Config; env: Env; origin: string }

// prepay_id and code_url live 2 h, mweb_url 5 min (reference §3.2).
const VALIDITY_MS = { MWEB: 5 * 60_000, other: 2 * 3600_000 }

/** Places the order, or returns the record of the identical order placed before. */
export async function placeOrder(deps: PlaceDeps, input: OrderInput): Promise<OrderRecord> {
  const { config, env, origin } = deps
  const { notify_url: shopNotifyUrl, total_fee, appid: asked, ...rest } = input
  checkTradeNo(config, input.out_trade_no)
  const appid = orderAppid(config, asked)
  const serviceNotifyUrl = `${config.publicUrl ?? origin}/v1/pay/notify`
  refuseOwnOrigin(shopNotifyUrl, [origin, config.publicUrl], config.sandbox)
  const shopFields: Record<string, string> = {}
  for (const [name, value] of Object.entries(rest)) if (value !== undefined) shopFields[name] = value
  shopFields.total_fee = String(total_fee)
  if (input.trade_type === 'NATIVE') shopFields.product_id ??= input.out_trade_no
  // The appid is in the fingerprint: the same out_trade_no under another appid is another order.
  const merchant = { appid, mch_id: config.mchId, sign_type: config.signType }
  const request: PlaceRequest = {
    out_trade_no: input.out_trade_no,
    // WeChat notifies this service, which verifies and relays to the shop's notify_url.
    fields: { ...shopFields, appid, notify_url: serviceNotifyUrl },
    // Records from before 0.2 hashed the service's own notify_url in too: the ledger matches either,
    // so a re-placement of an adopted v1 order is recognised and never reaches WeChat a second time.
    fingerprints: await fingerprintsOf({ ...shopFields, ...merchant }, shopNotifyUrl, serviceNotifyUrl),
    record: {
      appid,
      trade_type: input.trade_type,
      body: input.body,
      total_fee,
      openid: input.openid,
      attach: input.attach,
      notify_url: shopNotifyUrl,
    },
    validityMs: input.trade_type === 'MWEB' ? VALIDITY_MS.MWEB : VALIDITY_MS.other,
  }
  return unwrap(await ledgerOf(env, input.out_trade_no).place(request))
}

/** The appid a request names, checked against WXPAY_APPID (appids are not secret: the message lists them); the default when it names none. */
export function orderAppid(config: Config, asked: string | undefined): string {
  if (asked === undefined) return config.appid
  if (!config.appids.includes(asked))
    throw fail('params', `appid: must be one of the merchant's appids (${config.appids.join(', ')})`)
  return asked
}

/**
 * A notify_url that reaches the service itself would relay payments back into it. Hosts are compared
 * as DNS names (letter case and trailing dots do not count) and, since Cloudflare answers a hostname
 * on every port it proxies, whatever the port, unless the service's own origin names one (local
 * development, e.g. localhost:8787): then only that port is the service. In dev the sandbox's
 * stand-in shop (`/sandbox/…`) shares the origin and is allowed.
 */
export function refuseOwnOrigin(url: string, origins: (string | undefined)[], sandbox: boolean): void {
  const target = new URL(url)
  if (sandbox && target.pathname.startsWith('/sandbox/')) return
  for (const origin of origins) {
    if (origin === undefined) continue
    const own = new URL(origin)
    if (hostOf(target) !== hostOf(own) || (own.port !== '' && portOf(target) !== own.port)) continue
    const rule =
      own.port === ''
        ? `${hostOf(own)} is this service's host, under any letter case, trailing dot or port`
        : `${hostOf(own)}:${own.port} is this service's address, under any letter case or trailing dot`
    throw fail('params', `notify_url: must be your shop's backend, not this service: ${rule}`)
  }
}

/** The hostname as DNS compares it: URL parsing already lowers its case; a trailing dot names the same host. */
function hostOf(url: URL): string {
  return url.hostname.replace(/\.+$/, '')
}

/** The port a URL reaches, explicit or its scheme's default. */
function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80')
}

/**
 * SHA-256 over every field sent to unifiedorder but nonce_str, sign and time_start, plus the shop's
 * notify_url; then the same with the service's notify_url among the fields (the form before 0.2).
 * One sorted list serves both, and both digests run at once.
 */
async function fingerprintsOf(
  fields: Record<string, string>,
  shopNotifyUrl: string,
  serviceNotifyUrl: string,
): Promise<string[]> {
  const lines: string[] = []
  for (const name of Object.keys(fields).sort()) {
    if (name !== 'nonce_str' && name !== 'sign' && name !== 'time_start') lines.push(`${name}=${fields[name]}`)
  }
  const tail = `\nshop_notify_url=${shopNotifyUrl}`
  const current = lines.join('\n') + tail
  // notify_url's place in the sorted list: the shop's fields never include it (the route takes it apart).
  const at = lines.findIndex((line) => line > 'notify_url=')
  lines.splice(at < 0 ? lines.length : at, 0, `notify_url=${serviceNotifyUrl}`)
  return Promise.all([sha256Hex(current), sha256Hex(lines.join('\n') + tail)])
}
