/// <reference types="node" />
/**
 * The checkout page in a real browser: headless Chromium (the system's, through playwright-core)
 * against `wrangler dev --env dev` on a free port, as a payer would use it — pay, cancel, a tampered
 * paySign — with the shop's relays counted. Screenshots go to test/.out/screenshots/ (ignored by git).
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startWrangler } from '../../bench/lib/proc.mjs'

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
]
const CHROMIUM = CANDIDATES.find((path): path is string => Boolean(path && existsSync(path)))
const SHOTS = join(import.meta.dirname, '..', '.out', 'screenshots')
const TOKEN = 'browser-test-token'

type ShopOrder = { out_trade_no: string; total_fee: number; params?: { signType: string } }

if (!CHROMIUM) {
  const why =
    'browser test skipped: no Chromium found (install it with `apt-get install -y chromium`, or set CHROMIUM_PATH)'
  console.warn(why)
  describe('the checkout page in Chromium', () => {
    it.skip(why, () => {})
  })
} else {
  // Once per WeChat Pay API version (v3: dev-v3.env, as `npm run dev:v3`; the stand-in pay sheet then
  // checks an RSA paySign). The cases of a version share one wrangler dev and one browser, each in its
  // own page, side by side.
  describe.concurrent.each(['v2', 'v3'] as const)('the checkout page in Chromium (API %s)', (version) => {
    let origin = ''
    let server: { stop: () => Promise<void> } | undefined
    let browser: Browser | undefined
    let persist = ''

    beforeAll(async () => {
      const [port, inspectorPort] = [await freePort(), await freePort()]
      origin = `http://localhost:${port}`
      persist = await mkdtemp(join(tmpdir(), 'wxpayserver-browser-'))
      await mkdir(SHOTS, { recursive: true })
      ;[server, browser] = await Promise.all([
        startWrangler(
          [
            '--env=dev',
            `--port=${port}`,
            '--ip=localhost',
            `--inspector-port=${inspectorPort}`,
            `--persist-to=${persist}`,
            '--show-interactive-dev-session=false',
            '--log-level=error',
            '--var',
            `WXPAY_API_BASE:${origin}/sandbox`,
            `WXPAY_API_BASE_BACKUP:${origin}/sandbox`,
            'WXPAY_API_KEY:browser0test0key0browser0test0ke',
            `API_TOKENS:${TOKEN}`,
            'NOTIFY_SECRET:browser-test-notify-secret',
            ...(version === 'v3' ? ['--env-file', 'dev-v3.env'] : []),
          ],
          { readyUrl: new URL('/sandbox/checkout', origin) },
        ),
        chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
      ])
    }, 120_000)

    afterAll(async () => {
      await browser?.close()
      await server?.stop()
      if (persist) await rm(persist, { recursive: true, force: true })
    })

    /** A phone-sized page (375 px) on the checkout, with the shop's order captured when it is placed. */
    async function open(path = '/sandbox/checkout') {
      const page = await (browser as Browser).newPage({ viewport: { width: 375, height: 740 } })
      await page.goto(`${origin}${path}`)
      const placed = new Promise<ShopOrder>((resolve) => {
        page.on('response', async (response) => {
          if (response.url().endsWith('/sandbox/shop/orders') && response.ok()) resolve((await response.json()).data)
        })
      })
      return { page, placed }
    }

    async function relaysFor(outTradeNo: string): Promise<number> {
      const response = await fetch(`${origin}/sandbox/shop/orders/${outTradeNo}`)
      return ((await response.json()) as { data: { relays: number } }).data.relays
    }

    async function sandboxState(outTradeNo: string): Promise<string> {
      const response = await fetch(`${origin}/sandbox/orders/${outTradeNo}`)
      return ((await response.json()) as { data: { trade_state: string } }).data.trade_state
    }

    const finalState = (page: Page, state: string) => page.waitForSelector(`body[data-state="${state}"]`)

    it('pays by keyboard: the pay sheet shows merchant and amount in yuan, the page says Paid once the shop has the relay', async () => {
      const { page, placed } = await open()
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375)
      await page.getByLabel('Quantity (1–9)').fill('3')
      await page.getByLabel('Quantity (1–9)').press('Enter')
      const sheet = page.getByRole('dialog', { name: 'WeChat Pay (sandbox)' })
      await sheet.waitFor()
      expect(await sheet.textContent()).toContain('¥0.03')
      expect(await sheet.textContent()).toContain('Merchant 10000100: Demo shop-T-shirt')
      await page.screenshot({ path: join(SHOTS, `${version}-jsapi-sheet.png`) })
      // Focus starts on Pay: Enter pays.
      await page.keyboard.press('Enter')
      await finalState(page, 'paid')
      expect(await page.getByRole('status').textContent()).toBe('Paid')
      await page.screenshot({ path: join(SHOTS, `${version}-jsapi-paid.png`) })
      const order = await placed
      expect(order.total_fee).toBe(3)
      // The pay parameters as signed under this version: RSA under v3, the APIv2 key's HMAC under v2.
      expect(order.params?.signType).toBe(version === 'v3' ? 'RSA' : 'HMAC-SHA256')
      expect(await relaysFor(order.out_trade_no)).toBe(1)
      expect(await sandboxState(order.out_trade_no)).toBe('SUCCESS')
      await page.close()
    })

    it('cancels with Escape: nothing is paid and nothing relayed, and the page offers to pay again', async () => {
      const { page, placed } = await open()
      await page.getByRole('button', { name: 'Pay with WeChat Pay' }).click()
      await page.getByRole('dialog').waitFor()
      await page.keyboard.press('Escape')
      await finalState(page, 'cancelled')
      expect(await page.getByRole('status').textContent()).toBe('Payment cancelled.')
      expect(await page.getByRole('dialog').count()).toBe(0)
      expect(await page.getByRole('button', { name: 'Pay with WeChat Pay' }).isEnabled()).toBe(true)
      await page.screenshot({ path: join(SHOTS, `${version}-jsapi-cancelled.png`) })
      const order = await placed
      expect(await sandboxState(order.out_trade_no)).toBe('NOTPAY')
      expect(await relaysFor(order.out_trade_no)).toBe(0)
      await page.close()
    })

    it('refuses a tampered paySign before any pay sheet, as WeChat does', async () => {
      const { page, placed } = await open()
      // The page's backend answer is changed in flight: one hex digit of paySign differs.
      await page.route('**/sandbox/shop/orders', async (route) => {
        const response = await route.fetch()
        const json = await response.json()
        const sign: string = json.data.params.paySign
        json.data.params.paySign = (sign[0] === 'A' ? 'B' : 'A') + sign.slice(1)
        await route.fulfill({ response, json })
      })
      await page.getByRole('button', { name: 'Pay with WeChat Pay' }).click()
      await finalState(page, 'failed')
      expect(await page.getByRole('status').textContent()).toContain('支付验证签名失败')
      expect(await page.getByRole('dialog').count()).toBe(0)
      await page.screenshot({ path: join(SHOTS, `${version}-jsapi-tampered.png`) })
      const order = await placed
      expect(await sandboxState(order.out_trade_no)).toBe('NOTPAY')
      expect(await relaysFor(order.out_trade_no)).toBe(0)
      await page.close()
    })

    it('NATIVE: shows the code_url as an SVG QR code; scanning it pays, and the page says Paid', async () => {
      const { page, placed } = await open('/sandbox/checkout/native')
      await page.getByRole('button', { name: 'Show the QR code' }).click()
      const qr = page.getByRole('img', { name: 'QR code for ¥0.01' })
      await qr.waitFor()
      await page.screenshot({ path: join(SHOTS, `${version}-native-qr.png`) })
      await page.getByRole('button', { name: 'Scan it with the sandbox payer' }).click()
      await finalState(page, 'paid')
      await page.screenshot({ path: join(SHOTS, `${version}-native-paid.png`) })
      const order = await placed
      expect(await relaysFor(order.out_trade_no)).toBe(1)
      await page.close()
    })
  })
}
