/**
 * @module
 * The sandbox checkout pages, written the way a shop writes its own H5 page: `GET /checkout` (JSAPI,
 * inside WeChat) and `GET /checkout/native` (a QR code for a desktop browser). The page asks its shop
 * backend (shop.ts) for the order, hands the pay parameters to `WeixinJSBridge` (outside WeChat, the
 * stand-in from bridge.ts), and shows "Paid" only once the shop has received the relayed payment:
 * the callback's `get_brand_wcpay_request:ok` is not proof of payment. No dependencies, no build.
 */
import { Hono } from 'hono'
import { loadConfig } from '../config'
import type { SandboxEnv } from './http'
import { PRODUCT } from './shop'

/**
 * `GET /checkout` and `GET /checkout/native`; `?appid=` places the order under another of the
 * merchant's appids (the page links each one when WXPAY_APPID lists several).
 */
export const checkout = new Hono<SandboxEnv>()

checkout.get('/checkout', (c) => c.html(page('JSAPI', loadConfig(c.env).appids)))
checkout.get('/checkout/native', (c) => c.html(page('NATIVE', loadConfig(c.env).appids)))

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #111; background: #f5f5f5 }
  main { max-width: 28rem; margin: 0 auto; padding: 1rem; box-sizing: border-box }
  h1 { font-size: 1.4rem }
  .product { background: #fff; border-radius: 8px; padding: 1rem }
  label { display: block; margin: .75rem 0 .25rem }
  input { font: inherit; width: 5rem; padding: .4rem }
  button { font: inherit; width: 100%; padding: .75rem; margin-top: 1rem; border-radius: 8px; border: 0; background: #07c160; color: #fff; font-weight: 600 }
  button:disabled { background: #8fd9b3 }
  button:focus-visible, input:focus-visible { outline: 3px solid #1a56db; outline-offset: 2px }
  #status { min-height: 1.5em; font-weight: 600 }
  figure { margin: 1rem 0; text-align: center } figure svg { width: 12rem; height: 12rem }
`

// The page's own script: plain JavaScript, as a shop would put in its page.
const SCRIPT = `
const $ = (id) => document.getElementById(id)
const show = (state, text) => { document.body.dataset.state = state; $('status').textContent = text }
const yuan = (fen) => '¥' + (fen / 100).toFixed(2)
const PRICE = ${PRODUCT.priceFen}
// The appid to place under (?appid=…), else the merchant's default.
const APPID = new URLSearchParams(location.search).get('appid')
$('quantity').addEventListener('input', () => { $('total').textContent = yuan(PRICE * ($('quantity').valueAsNumber || 0)) })

// The bridge may arrive after the page (it always does inside WeChat): wait for its ready event.
const bridgeReady = () => new Promise((resolve) =>
  window.WeixinJSBridge ? resolve() : document.addEventListener('WeixinJSBridgeReady', resolve, { once: true }))

async function placeOrder(tradeType) {
  const response = await fetch('/sandbox/shop/orders', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quantity: $('quantity').valueAsNumber, trade_type: tradeType, ...(APPID && { appid: APPID }) }),
  })
  const reply = await response.json()
  if (!response.ok) throw new Error(reply.error ? reply.error.message : 'the shop could not place the order')
  return reply.data
}

// Paid means the shop's backend has the verified payment (the relay), never the page's own say-so.
async function waitForShop(outTradeNo) {
  show('confirming', 'Confirming the payment with the shop…')
  for (let i = 0; i < 60; i++) {
    // A failed poll is only a missed look: the next one asks again.
    const reply = await fetch('/sandbox/shop/orders/' + encodeURIComponent(outTradeNo)).then((r) => r.json(), () => ({}))
    if (reply.data && reply.data.paid) return show('paid', 'Paid')
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  show('unconfirmed', 'Not confirmed yet: the shop will update the order when the payment arrives.')
}

const retry = (state, text) => { show(state, text); $('pay').disabled = false }

$('checkout').addEventListener('submit', async (event) => {
  event.preventDefault()
  $('pay').disabled = true
  show('ordering', 'Placing the order…')
  let order
  try { order = await placeOrder(document.body.dataset.tradeType) } catch (err) { return retry('failed', err.message) }
  if (order.code_url) return showQr(order)
  show('paying', 'Confirm the payment in WeChat…')
  await bridgeReady()
  WeixinJSBridge.invoke('getBrandWCPayRequest', order.params, (result) => {
    if (result.err_msg === 'get_brand_wcpay_request:ok') return waitForShop(order.out_trade_no)
    if (result.err_msg === 'get_brand_wcpay_request:cancel') return retry('cancelled', 'Payment cancelled.')
    retry('failed', 'Payment failed: ' + (result.err_desc || result.err_msg))
  })
})

function showQr(order) {
  $('qr').innerHTML = order.qr_svg
  $('qr').querySelector('svg').setAttribute('role', 'img')
  $('qr').querySelector('svg').setAttribute('aria-label', 'QR code for ' + yuan(order.total_fee))
  $('qr-caption').textContent = 'Scan with WeChat to pay ' + yuan(order.total_fee) + ' (' + order.code_url + ')'
  $('scan').hidden = false
  $('scan').focus()
  show('scanning', 'Waiting for the payer to scan the code…')
  $('scan').onclick = async () => {
    $('scan').disabled = true
    const response = await fetch('/sandbox/bridge/scan', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: order.code_url }),
    })
    if (response.ok) return waitForShop(order.out_trade_no)
    retry('failed', 'Payment failed: ' + ((await response.json()).error || {}).message)
  }
}
`

function page(tradeType: 'JSAPI' | 'NATIVE', appids: readonly string[]): string {
  const native = tradeType === 'NATIVE'
  const path = native ? '/sandbox/checkout/native' : '/sandbox/checkout'
  // appids are [A-Za-z0-9_] (config.ts): nothing to escape.
  const links = appids.map((appid, i) => `<a href="${path}${i === 0 ? '' : `?appid=${appid}`}">${appid}</a>`)
  const price = `¥${(PRODUCT.priceFen / 100).toFixed(2)}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop checkout${native ? ' (QR code)' : ''} — wxpayserver sandbox</title>
<style>${STYLE}</style>
</head>
<body data-state="ready" data-trade-type="${tradeType}">
<main>
<h1>Demo shop</h1>
<form id="checkout" class="product">
<p><strong>${PRODUCT.name}</strong>, ${price} each</p>
<label for="quantity">Quantity (1–9)</label>
<input id="quantity" name="quantity" type="number" inputmode="numeric" min="1" max="9" value="1" required>
<p>Total: <span id="total">${price}</span></p>
<button id="pay" type="submit">${native ? 'Show the QR code' : 'Pay with WeChat Pay'}</button>
</form>
<figure><div id="qr"></div><figcaption id="qr-caption"></figcaption></figure>
<button id="scan" type="button" hidden>Scan it with the sandbox payer</button>
<p id="status" role="status" aria-live="polite"></p>
${
  appids.length > 1
    ? `<p><small>Place under appid: ${links.join(' · ')}</small></p>
`
    : ''
}<p><small>Sandbox: the pay sheet is a stand-in for WeChat's. ${
    native
      ? '<a href="/sandbox/checkout">Pay inside WeChat (JSAPI) instead</a>'
      : '<a href="/sandbox/checkout/native">Pay by QR code (NATIVE) instead</a>'
  }</small></p>
</main>
${native ? '' : '<script src="/sandbox/bridge.js"></script>\n'}<script>${SCRIPT}</script>
</body>
</html>`
}
