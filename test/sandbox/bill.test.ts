/**
 * /pay/downloadbill in the sandbox (refunds reference §4): the ALL bill of a Beijing day made from
 * the sandbox's own payments and refunds in WeChat's format (backtick-prefixed values, commas kept as
 * they are), gzipped when asked, read back with the project's reader and through its client;
 * failures as WeChat sends them.
 */
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config'
import type { BillEntry, BillRow, BillSummary } from '../../src/wechat/bill'
import { createClient } from '../../src/wechat/client'
import { decode, encode } from '../../src/wechat/xml'
import { route } from '../support/net'
import { entriesOf } from '../wechat/bill-streams'
import { APPID, call, dev, lookup, order, orderNo, SANDBOX, signed } from './client'

const OK_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

/** Today in Beijing, yyyyMMdd. */
const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')

/** The rows and summary of a bill's entries; a malformed line fails the test. */
function billOf(entries: BillEntry[]): { rows: BillRow[]; summary: BillSummary | undefined } {
  expect(entries.filter((entry) => entry.kind === 'malformed')).toEqual([])
  return {
    rows: entries.flatMap((entry) => (entry.kind === 'row' ? [entry.row] : [])),
    summary: entries.flatMap((entry) => (entry.kind === 'summary' ? [entry.summary] : []))[0],
  }
}

async function download(fields: Record<string, string>, options: { key?: string } = {}) {
  const body = encode(await signed(lookup(fields), options))
  const response = await exports.default.fetch(new Request(`${SANDBOX}/pay/downloadbill`, { method: 'POST', body }))
  expect(response.status).toBe(200)
  return response
}

describe('/pay/downloadbill', () => {
  it('serves today’s ALL bill with a payment and its refund, commas in body and attach kept, read back exactly', async () => {
    route('shop.test', () => new Response(OK_XML))
    const fields = order({
      total_fee: '10101',
      body: 'T-shirt, XL "红色" `特价`',
      attach: '{"size":"XL","tags":"a,b"}',
      notify_url: 'https://shop.test/paid',
    })
    await call('/pay/unifiedorder', fields)
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
    const out_refund_no = orderNo('RF')
    const refund = await call(
      '/secapi/pay/refund',
      lookup({ out_trade_no: fields.out_trade_no, out_refund_no, total_fee: '10101', refund_fee: '4550' }),
    )
    const unpaid = order()
    await call('/pay/unifiedorder', unpaid)

    const response = await download({ bill_date: today(), bill_type: 'ALL' })
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await response.text()
    expect(text.endsWith('\r\n')).toBe(true)
    // WeChat's own format: the comma stays a comma, each value starts with a backtick (§4.3).
    expect(text).toContain(',`T-shirt, XL "红色" `特价`,`{"size":"XL","tags":"a,b"},`')
    const bill = billOf(await entriesOf(text))
    const mine = bill.rows.filter((row) => row.out_trade_no === fields.out_trade_no)
    expect(mine).toMatchObject([
      {
        kind: 'payment',
        appid: APPID,
        transaction_id: paid.body.data.transaction_id,
        total_fee: 10101,
        settlement_total_fee: 10101,
        service_fee: '0.61000',
        body: 'T-shirt, XL "红色" `特价`',
        attach: '{"size":"XL","tags":"a,b"}',
      },
      {
        kind: 'refund',
        refund_id: refund.refund_id,
        out_refund_no,
        refund_fee: 4550,
        applied_refund_fee: 4550,
        refund_status: 'PROCESSING',
        total_fee: 0,
        service_fee: '-0.27000',
      },
    ])
    expect(bill.rows.some((row) => row.out_trade_no === unpaid.out_trade_no)).toBe(false)
    // The summary adds up the day's lines.
    const sum = (pick: (row: (typeof bill.rows)[number]) => number) => bill.rows.reduce((t, row) => t + pick(row), 0)
    expect(bill.summary).toMatchObject({
      count: bill.rows.length,
      total_fee: sum((row) => row.total_fee),
      settlement_total_fee: sum((row) => row.settlement_total_fee),
      refund_fee: sum((row) => (row.kind === 'refund' ? row.refund_fee : 0)),
    })
  })

  it('is read through the client: asked gzipped, decompressed as it streams, commas intact', async () => {
    route('shop.test', () => new Response(OK_XML))
    const fields = order({ body: '茶, 大杯', attach: 'x`,y', notify_url: 'https://shop.test/paid' })
    await call('/pay/unifiedorder', fields)
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    const seen: Record<string, string>[] = []
    route('api.wechat.test', async (request) => {
      seen.push({ ...decode(await request.clone().text()) })
      return exports.default.fetch(request)
    })
    const reply = await createClient({ config: loadConfig(env) }).bill({ bill_date: today(), bill_type: 'ALL' })
    expect(seen).toMatchObject([{ bill_date: today(), bill_type: 'ALL', tar_type: 'GZIP' }])
    if (reply.kind !== 'bill') throw new Error(`no bill: ${reply.message}`)
    const { rows, summary } = billOf(await entriesOf(reply.body))
    expect(rows.filter((row) => row.out_trade_no === fields.out_trade_no)).toMatchObject([
      { kind: 'payment', body: '茶, 大杯', attach: 'x`,y' },
    ])
    expect(summary?.count).toBe(rows.length)
  })

  it('serves the same bill gzipped when tar_type=GZIP', async () => {
    route('shop.test', () => new Response(OK_XML))
    const fields = order({ notify_url: 'https://shop.test/paid' })
    await call('/pay/unifiedorder', fields)
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    const plain = await (await download({ bill_date: today(), bill_type: 'ALL' })).text()
    const zipped = await download({ bill_date: today(), bill_type: 'ALL', tar_type: 'GZIP' })
    const body = zipped.body?.pipeThrough(new DecompressionStream('gzip')) ?? null
    expect(await new Response(body).text()).toBe(plain)
  })

  it.each([
    ['a day without trades', { bill_date: '20000101', bill_type: 'ALL' }, 'No Bill Exist', '20002'],
    ['a date that does not exist', { bill_date: '20261332', bill_type: 'ALL' }, 'invalid bill_date', '20001'],
    ['no bill_date', { bill_type: 'ALL' }, 'invalid bill_date', '20001'],
    [
      'a bill type the sandbox does not serve',
      { bill_date: '20000101', bill_type: 'REFUND' },
      'invalid bill_type',
      '20001',
    ],
  ])('answers %s with unsigned XML FAIL', async (_, fields, message, code) => {
    const reply = decode(await (await download(fields)).text())
    expect({ ...reply }).toEqual({ return_code: 'FAIL', return_msg: message, error_code: code })
  })

  it('refuses a request signed with another key', async () => {
    const response = await download(
      { bill_date: today(), bill_type: 'ALL' },
      { key: 'another0key0another0key0another0' },
    )
    expect(decode(await response.text())).toMatchObject({ return_code: 'FAIL' })
  })
})
