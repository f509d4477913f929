/**
 * @module
 * createWechat picks the client by WXPAY_API_VERSION; both answer v2-shaped fields.
 */
import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { loadConfig } from '../../../src/config'
import { createWechat } from '../../../src/wechat'
import { route } from '../../support/net'
import { standIn, V3_HOST, v3Config } from '../../support/v3-standin'
import * as V from './vectors'

it('speaks v3 to the v3 API when WXPAY_API_VERSION is v3', async () => {
  const wx = standIn({ 'POST /v3/pay/transactions/out-trade-no/*': () => ({ status: 204 }) })
  route(V3_HOST, wx.handler)
  const reply = await createWechat({ config: v3Config() }).call('/pay/closeorder', {
    out_trade_no: 'ORD20260101000001',
  })
  expect(reply).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', mch_id: V.MCHID })
  expect(wx.seen).toHaveLength(1)
})

it('speaks v2 XML otherwise', async () => {
  const seen: string[] = []
  route('v2index.test', async (request) => {
    seen.push(`${new URL(request.url).pathname} ${(await request.text()).slice(0, 5)}`)
    return new Response('<xml><return_code>FAIL</return_code><return_msg>stand-in</return_msg></xml>')
  })
  const config = loadConfig({ ...env, WXPAY_API_BASE: 'http://v2index.test' } as Env)
  const error = await createWechat({ config })
    .call('/pay/orderquery', { out_trade_no: 'ORD1' })
    .catch((err: unknown) => err)
  expect(error).toMatchObject({ failure: { kind: 'upstream', message: 'return_code FAIL: stand-in' } })
  expect(seen).toEqual(['/pay/orderquery <xml>'])
})
