/**
 * /pay/downloadbill in the sandbox (refunds reference §4): the ALL bill of a Beijing day made from
 * the sandbox's own payments and refunds, read back with the project's parser; failures as WeChat
 * sends them.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { parseBill } from '../../src/wechat/bill'
import { decode, encode } from '../../src/wechat/xml'
import { route } from '../support/net'
import { APPID, call, dev, lookup, order, orderNo, SANDBOX, signed } from './client'

const OK_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

/** Today in Beijing, yyyyMMdd. */
const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '')

async function download(fields: Record<string, string>, options: { key?: string } = {}) {
  const body = encode(await signed(lookup(fields), options))
  const response = await exports.default.fetch(new Request(`${SANDBOX}/pay/downloadbill`, { method: 'POST', body }))
  expect(response.status).toBe(200)
  return response
}

describe('/pay/downloadbill', () => {
  it('serves today’s ALL bill with a payment and its refund, read back exactly', async () => {
    route('shop.test', () => new Response(OK_XML))
    const fields = order({ total_fee: '10101', body: '咖啡,大杯', attach: 'a,b', notify_url: 'https://shop.test/paid' })
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
    const bill = parseBill(text)
    const mine = bill.rows.filter((row) => row.out_trade_no === fields.out_trade_no)
    expect(mine).toMatchObject([
      {
        kind: 'payment',
        appid: APPID,
        transaction_id: paid.body.data.transaction_id,
        total_fee: 10101,
        settlement_total_fee: 10101,
        service_fee: '0.61000',
        body: '咖啡，大杯',
        attach: 'a，b',
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
