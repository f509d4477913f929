/**
 * @module
 * The v3 trade bill (v3 reference §6.12): tradebill's signed JSON names the download; the file is
 * fetched with a signed GET, gunzipped by its magic bytes and streamed, and the stream fails before
 * it ends when the SHA-1 is not the one stated.
 */
import { describe, expect, it } from 'vitest'
import { PayError } from '../../../src/errors'
import { createV3Client } from '../../../src/wechat/v3/client'
import { sha1Hex } from '../../../src/wechat/v3/crypto'
import { route } from '../../support/net'
import { captureLogs } from '../../support/secrets'
import { standIn, V3_HOST, v3Config } from '../../support/v3-standin'

const CSV = [
  '\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
  '`2026-01-01 08:00:05,`wxd678efh567hg6787,`1230000109,`0,`,`4200000000202601010000000001,`ORD20260101000001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`Test-商品,`cart=42,`0.00000,`0.60%,`0.01,`0.00,`',
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
  '`1,`0.01,`0.00,`0.00,`0.00000,`0.01,`0.00',
  '',
].join('\r\n')
const plain = new TextEncoder().encode(CSV)

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

function wechat(file: Uint8Array, hash: string) {
  return standIn({
    'GET /v3/bill/tradebill': () => ({
      status: 200,
      json: { hash_type: 'SHA1', hash_value: hash, download_url: `http://${V3_HOST}/v3/billdownload/file?token=T0KEN` },
    }),
    // The file is not signed (§4.3).
    'GET /v3/billdownload/file': () => ({ status: 200, body: file, signing: 'none' }),
  })
}

describe('bill()', () => {
  it('asks for the gzip bill of the day, downloads it with a signed GET and streams the CSV', async () => {
    const wx = wechat(await gzip(plain), await sha1Hex(plain))
    route(V3_HOST, wx.handler)
    const answer = await createV3Client({ config: v3Config() }).bill({ bill_date: '20260101', bill_type: 'ALL' })
    if (answer.kind !== 'bill') throw new Error('expected a bill')
    expect(new Uint8Array(await new Response(answer.body).arrayBuffer())).toEqual(plain)
    expect(wx.seen.map((s) => s.target)).toEqual([
      '/v3/bill/tradebill?bill_date=2026-01-01&bill_type=ALL&tar_type=GZIP',
      '/v3/billdownload/file?token=T0KEN',
    ])
    expect(wx.seen[1]?.headers.get('authorization')).toMatch(/^WECHATPAY2-SHA256-RSA2048 /)
  })

  it('passes a file that arrives already uncompressed (no gzip magic bytes)', async () => {
    route(V3_HOST, wechat(plain, await sha1Hex(plain)).handler)
    const answer = await createV3Client({ config: v3Config() }).bill({ bill_date: '20260101', bill_type: 'ALL' })
    if (answer.kind !== 'bill') throw new Error('expected a bill')
    // Byte for byte, BOM included.
    expect(new Uint8Array(await new Response(answer.body).arrayBuffer())).toEqual(plain)
  })

  it('errors the stream before its end when the SHA-1 differs', async () => {
    route(V3_HOST, wechat(await gzip(plain), '0'.repeat(40)).handler)
    const answer = await createV3Client({ config: v3Config() }).bill({ bill_date: '20260101', bill_type: 'ALL' })
    if (answer.kind !== 'bill') throw new Error('expected a bill')
    const error = await new Response(answer.body).text().catch((err: unknown) => err)
    expect(error).toBeInstanceOf(PayError)
    expect((error as PayError).message).toMatch(/SHA-1/)
  })

  it('answers kind none for 400 NO_STATEMENT_EXIST', async () => {
    route(
      V3_HOST,
      standIn({
        'GET /v3/bill/tradebill': () => ({
          status: 400,
          json: { code: 'NO_STATEMENT_EXIST', message: '账单文件不存在' },
        }),
      }).handler,
    )
    const answer = await createV3Client({ config: v3Config() }).bill({ bill_date: '20260101', bill_type: 'ALL' })
    expect(answer).toEqual({ kind: 'none', message: '账单文件不存在' })
  })

  it('refuses a download_url on another host, sending it nothing', async () => {
    captureLogs()
    const wx = standIn({
      'GET /v3/bill/tradebill': () => ({
        status: 200,
        json: {
          hash_type: 'SHA1',
          hash_value: '0'.repeat(40),
          download_url: 'https://evil.test/v3/billdownload/file?token=T',
        },
      }),
    })
    route(V3_HOST, wx.handler)
    let asked = 0
    route('evil.test', () => {
      asked++
      return new Response('')
    })
    const error = await createV3Client({ config: v3Config() })
      .bill({ bill_date: '20260101', bill_type: 'ALL' })
      .catch((err: unknown) => err)
    expect((error as PayError).failure.kind).toBe('upstream')
    expect(asked).toBe(0)
  })
})
