/**
 * @module
 * The stand-in `WeixinJSBridge`, as the script `GET /sandbox/bridge.js` serves. It defines the
 * bridge only where none exists (inside WeChat the real one wins), then fires `WeixinJSBridgeReady`.
 * The pay sheet is a modal dialog: focus starts on Pay, Tab stays inside, Escape cancels.
 */

export const BRIDGE_SCRIPT = `(() => {
  if (window.WeixinJSBridge) return
  const post = (path, body) =>
    fetch('/sandbox/bridge/' + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ ok: r.ok, body: await r.json().catch(() => ({})) }))
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v)
    node.append(...children)
    return node
  }
  const style = el('style', {}, \`
    .wxb-backdrop { position: fixed; inset: 0; background: rgb(0 0 0 / .5); display: flex; align-items: flex-end; justify-content: center; z-index: 1000 }
    .wxb-sheet { background: #fff; color: #111; width: 100%; max-width: 28rem; border-radius: 12px 12px 0 0; padding: 1.25rem; font: 16px/1.5 system-ui, sans-serif; box-sizing: border-box }
    .wxb-sheet h2 { font-size: 1rem; margin: 0 0 .5rem; color: #555 }
    .wxb-amount { font-size: 2rem; font-weight: 600; margin: .25rem 0 1rem }
    .wxb-sheet button { display: block; width: 100%; font: inherit; padding: .75rem; margin-top: .5rem; border-radius: 8px; border: 1px solid #999; background: #fff; color: #111 }
    .wxb-sheet button.wxb-pay { background: #07c160; border-color: #07c160; color: #fff; font-weight: 600 }
    .wxb-sheet button:focus-visible { outline: 3px solid #1a56db; outline-offset: 2px }
    .wxb-error { color: #b00020 }\`)

  function sheet(order, params, callback) {
    const opener = document.activeElement
    const error = el('p', { class: 'wxb-error', role: 'alert' })
    const pay = el('button', { type: 'button', class: 'wxb-pay' }, 'Pay')
    const cancel = el('button', { type: 'button' }, 'Cancel')
    const dialog = el('div', { class: 'wxb-sheet', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'wxb-title' },
      el('h2', { id: 'wxb-title' }, 'WeChat Pay (sandbox)'),
      el('p', {}, 'Merchant ' + order.mch_id + ': ' + order.body),
      el('p', { class: 'wxb-amount', 'aria-label': 'Amount ' + (order.total_fee / 100).toFixed(2) + ' yuan' }, '¥' + (order.total_fee / 100).toFixed(2)),
      pay, cancel, error)
    const backdrop = el('div', { class: 'wxb-backdrop' }, style, dialog)
    const close = (result) => {
      backdrop.remove()
      if (opener && opener.focus) opener.focus()
      callback(result)
    }
    pay.addEventListener('click', async () => {
      pay.disabled = cancel.disabled = true
      pay.textContent = 'Paying…'
      const { ok, body } = await post('pay', params)
      if (ok) return close({ err_msg: 'get_brand_wcpay_request:ok' })
      close({ err_msg: 'get_brand_wcpay_request:fail', err_desc: (body.error && body.error.message) || 'payment failed' })
    })
    cancel.addEventListener('click', () => close({ err_msg: 'get_brand_wcpay_request:cancel' }))
    dialog.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !cancel.disabled) cancel.click()
      if (event.key === 'Tab') {
        event.preventDefault()
        ;(document.activeElement === pay ? cancel : pay).focus()
      }
    })
    document.body.append(backdrop)
    pay.focus()
  }

  window.WeixinJSBridge = {
    invoke(name, params, callback) {
      if (name !== 'getBrandWCPayRequest') {
        callback({ err_msg: name + ':fail', err_desc: 'the sandbox bridge knows getBrandWCPayRequest only' })
        return
      }
      post('check', params).then(({ ok, body }) => {
        if (ok) return sheet(body.data, params, callback)
        callback({ err_msg: 'get_brand_wcpay_request:fail', err_desc: (body.error && body.error.message) || 'refused' })
      })
    },
  }
  document.dispatchEvent(new Event('WeixinJSBridgeReady'))
})()
`
