/** The v3 trade bill (v3 reference §6.12) and the platform certificates (§4.5). */
import { describe, expect, it } from 'vitest'
import { beijingTime } from '../../../src/sandbox/time'
import { aesGcmDecrypt } from '../../../src/wechat/v3/crypto'
import { call, dev, jsapiBody, signedBy, warmUp } from '../../support/v3'
import { APIV3_KEY, CERTIFICATE_SERIAL, SANDBOX_CERTIFICATE } from '../../support/v3-keys'

warmUp()

const today = () => {
  const day = beijingTime(Date.now()).slice(0, 8)
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`
}

async function sha1(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', bytes))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The bill's download, as the service makes it: a signed GET of the download_url's path below the sandbox. */
async function download(url: string) {
  const { pathname, search } = new URL(url)
  return call('GET', `${pathname.slice(pathname.indexOf('/v3/'))}${search}`)
}

describe('the trade bill', () => {
  it('names a download_url whose signed GET answers the gzip file, unsigned, with the SHA-1 it stated', async () => {
    const body = jsapiBody({ amount: { total: 257, currency: 'CNY' } })
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    await dev('/pay', { out_trade_no: body.out_trade_no })
    const reply = await call('GET', `/v3/bill/tradebill?bill_date=${today()}&bill_type=ALL&tar_type=GZIP`)
    expect(reply.status).toBe(200)
    expect(await signedBy(reply)).toBe(true)
    expect(reply.json).toMatchObject({ hash_type: 'SHA1', hash_value: expect.stringMatching(/^[0-9a-f]{40}$/) })
    const url = reply.json.download_url as string
    expect(url).toMatch(/^http:\/\/service\.test\/sandbox\/v3\/billdownload\/file\?token=\w{32}$/)

    const file = await download(url)
    expect(file.status).toBe(200)
    expect(file.headers.get('wechatpay-signature')).toBeNull()
    // The file is gzip (magic 1f 8b) and its plain CSV has the stated SHA-1.
    const raw = file.bytes
    expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b])
    const csv = new Uint8Array(
      await new Response(new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer(),
    )
    expect(await sha1(csv)).toBe(reply.json.hash_value)
    expect(new TextDecoder().decode(csv)).toContain(`\`${body.out_trade_no},`)
  })

  it('without tar_type answers the plain CSV', async () => {
    const body = jsapiBody()
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    await dev('/pay', { out_trade_no: body.out_trade_no })
    const reply = await call('GET', `/v3/bill/tradebill?bill_date=${today()}`)
    const file = await download(reply.json.download_url as string)
    expect(await sha1(new TextEncoder().encode(file.text))).toBe(reply.json.hash_value)
    expect(file.text.startsWith('交易时间,')).toBe(true)
  })

  it('the download needs a signed request, and a token that exists', async () => {
    const body = jsapiBody()
    await call('POST', '/v3/pay/transactions/jsapi', { json: body })
    await dev('/pay', { out_trade_no: body.out_trade_no })
    const reply = await call('GET', `/v3/bill/tradebill?bill_date=${today()}`)
    const { pathname, search } = new URL(reply.json.download_url as string)
    const target = `${pathname.slice(pathname.indexOf('/v3/'))}${search}`
    expect((await call('GET', target, { headers: { authorization: null } })).status).toBe(401)
    const unknown = await call('GET', '/v3/billdownload/file?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    expect([unknown.status, unknown.json.code]).toEqual([400, 'INVALID_REQUEST'])
  })

  it.each([
    ['a day without trades', 'bill_date=2020-01-01', 'NO_STATEMENT_EXIST'],
    ['a v2 date', 'bill_date=20200101', 'PARAM_ERROR'],
    ['no date', 'bill_type=ALL', 'PARAM_ERROR'],
    ['a tar_type other than GZIP', `bill_date=2020-01-01&tar_type=ZIP`, 'PARAM_ERROR'],
  ])('is refused for %s', async (_, search, code) => {
    const reply = await call('GET', `/v3/bill/tradebill?${search}`)
    expect([reply.status, reply.json.code]).toEqual([400, code])
    expect(await signedBy(reply)).toBe(true)
  })
})

describe('GET /v3/certificates', () => {
  it('answers the platform certificate, sealed with the APIv3 key', async () => {
    const reply = await call('GET', '/v3/certificates?algorithm_type=RSA', { wechatpaySerial: null })
    expect(reply.status).toBe(200)
    expect(await signedBy(reply)).toBe(true)
    const [entry] = reply.json.data as [Record<string, unknown>]
    expect(entry).toMatchObject({
      serial_no: CERTIFICATE_SERIAL,
      effective_time: expect.stringMatching(/\+08:00$/),
      expire_time: expect.stringMatching(/\+08:00$/),
      encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', associated_data: 'certificate' },
    })
    const sealed = entry.encrypt_certificate as { nonce: string; associated_data: string; ciphertext: string }
    expect(new TextDecoder().decode(await aesGcmDecrypt(APIV3_KEY, sealed))).toBe(SANDBOX_CERTIFICATE)
    await expect(aesGcmDecrypt('AnotherAPIv3Key0123456789abcdefA', sealed)).rejects.toThrow()
  })
})
