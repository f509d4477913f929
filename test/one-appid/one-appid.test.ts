/**
 * One appid, as most deployments have (the `workerd` project in vitest.config.ts runs with
 * WXPAY_APPID holding one appid): it is the default and the only one a request may name.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config'
import { jsapiOrder, post } from '../support/api'
import { APPID, SECOND_APPID } from '../support/bindings'
import { ledgerRecord } from '../support/ledger'
import { PRIMARY, passThrough, route } from '../support/net'
import { deliver, notification, placeOrder, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'
import { readRequest } from '../support/wechat'

function appidsSent(): string[] {
  const sent: string[] = []
  route(PRIMARY, async (request) => {
    sent.push((await readRequest(request.clone())).appid ?? '')
    return passThrough(request)
  })
  return sent
}

describe('with one appid', () => {
  it('is configured as a list of one, the default', () => {
    expect(env.WXPAY_APPID).toBe(APPID)
    expect(loadConfig(env)).toMatchObject({ appid: APPID, appids: [APPID] })
  })

  it('places under it, named or not', async () => {
    const sent = appidsSent()
    for (const order of [jsapiOrder(), jsapiOrder({ appid: APPID })]) {
      const { status, body } = await post('/v1/pay/params', order)
      expect(status).toBe(200)
      expect(body.data.appId).toBe(APPID)
      expect((await ledgerRecord(order.out_trade_no as string))?.appid).toBe(APPID)
    }
    expect(sent).toEqual([APPID, APPID])
  })

  it('refuses any other appid before WeChat, naming the one there is', async () => {
    const sent = appidsSent()
    const { status, body } = await post('/v1/pay/params', jsapiOrder({ appid: SECOND_APPID }))
    expect(status).toBe(400)
    expect(body.error.message).toBe(`appid: must be one of the merchant's appids (${APPID})`)
    expect(sent).toEqual([])
  })

  it('refuses a notification for an appid it does not have as another merchant’s', async () => {
    const logs = captureLogs()
    const relays = shop()
    const order = await placeOrder()
    const reply = await deliver(await notification(order, { fields: { appid: SECOND_APPID } }))
    expect(reply.text).toContain('appid or mch_id is not this merchant')
    expect(relays).toHaveLength(0)
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected', reason: 'wrong_merchant' }))
  })
})
