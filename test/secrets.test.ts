import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { jsapiOrder, post } from './support/api'
import { SERVICE } from './support/net'
import { captureLogs, checked } from './support/secrets'

describe('the secret watch (test/support/secrets.ts) is live', () => {
  it('sees the service’s log lines and response bodies', async () => {
    const logs = captureLogs()
    const before = { ...checked }
    await post('/v1/pay/params', jsapiOrder({ total_fee: 0 }))
    await exports.default.fetch(new Request(`${SERVICE}/v1/pay/notify`, { method: 'POST', body: 'garbage' }))
    expect(checked.responses).toBeGreaterThan(before.responses)
    expect(checked.logs).toBeGreaterThan(before.logs)
    expect(logs()).toContainEqual(expect.objectContaining({ event: 'notify_rejected', reason: 'unparsable' }))
  })

  it('is given real secrets to look for', () => {
    expect(String(env.WXPAY_API_KEY)).toHaveLength(32)
    expect(String(env.NOTIFY_SECRET).length).toBeGreaterThanOrEqual(16)
    expect(String(env.OPS_TOKENS).split(',')).toHaveLength(2)
  })
})
