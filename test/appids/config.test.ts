/** WXPAY_APPID: the appids bound to the one mch_id, comma-separated; the first is the default. */
import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadConfig, MAX_APPIDS } from '../../src/config'
import worker from '../../src/dev'
import { PayError } from '../../src/errors'
import { APPIDS } from '../support/bindings'

const withAppids = (value: string) => ({ ...env, WXPAY_APPID: value }) as Env

describe('WXPAY_APPID', () => {
  it.each([
    ['one appid, as before', 'wxd930ea5d5a258f4f', ['wxd930ea5d5a258f4f']],
    ['two, the first the default', APPIDS.join(','), [...APPIDS]],
    ['spaces around the commas', ' wx1 , wx2_b ,wx3 ', ['wx1', 'wx2_b', 'wx3']],
    [`${MAX_APPIDS} of them`, Array.from({ length: MAX_APPIDS }, (_, i) => `wx${i}`).join(','), undefined],
  ])('takes %s', (_, value, expected) => {
    const config = loadConfig(withAppids(value))
    const list = expected ?? value.split(',')
    expect(config.appids).toEqual(list)
    expect(config.appid).toBe(list[0])
  })

  it.each([
    ['an appid listed twice', 'wx1,wx2,wx1', 'WXPAY_APPID must be up to 10 distinct appids', 'one is listed twice'],
    ['more than the limit', Array.from({ length: MAX_APPIDS + 1 }, (_, i) => `wx${i}`).join(','), 'up to 10', ''],
    ['an empty entry', 'wx1,,wx2', 'of up to 32 letters and digits, comma-separated', ''],
    ['a trailing comma', 'wx1,', 'comma-separated', ''],
    ['another separator', 'wx1;wx2', 'letters and digits', ''],
    ['an appid too long', `wx1,${'w'.repeat(33)}`, 'up to 32', ''],
  ])('refuses %s, naming the variable and no value', (_, value, rule, more) => {
    let error: unknown
    try {
      loadConfig(withAppids(value))
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(PayError)
    const { kind, message } = (error as PayError).failure
    expect(kind).toBe('config')
    expect(message).toMatch(/^WXPAY_APPID must be /)
    expect(message).toContain(rule)
    expect(message).toContain(more)
    for (const appid of value.split(/[,;]/)) if (appid.length > 3) expect(message).not.toContain(appid)
  })

  it('GET /health names a bad list by the variable, and takes a good one', async () => {
    const health = async (value: string) => {
      const request = new Request('http://service.test/health')
      const response = await worker.fetch(request, withAppids(value), createExecutionContext())
      return { status: response.status, body: await response.json<{ problems: { name: string }[] }>() }
    }
    const bad = await health('wx1,wx1')
    expect(bad.status).toBe(503)
    expect(bad.body.problems.map(({ name }) => name)).toEqual(['WXPAY_APPID'])
    expect((await health(APPIDS.join(','))).status).toBe(200)
  })
})
