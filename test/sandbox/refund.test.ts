/**
 * 申请退款 and 查询退款 in the sandbox (refunds reference §1, §2), through HTTP as the service
 * calls them; replies read with the project's own parsers after their signatures check out.
 */
import { describe, expect, it } from 'vitest'
import { refundQueryOf, refundReceiptOf } from '../../src/wechat/refund'
import { encode } from '../../src/wechat/xml'
import { route } from '../support/net'
import {
  APPID,
  call,
  dev,
  expectRefused,
  expectSigned,
  lookup,
  MCH_ID,
  nonceStr,
  order,
  orderNo,
  postRaw,
  signed,
} from './client'

const OK_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

/** A paid order of `total` fen; the shop stand-in acknowledges the payment notification. */
async function paidOrder(total = 100) {
  route('shop.test', () => new Response(OK_XML))
  const fields = order({ total_fee: String(total), notify_url: 'https://shop.test/paid' })
  expect((await call('/pay/unifiedorder', fields)).result_code).toBe('SUCCESS')
  const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
  expect(paid.status).toBe(200)
  return { out_trade_no: fields.out_trade_no, transaction_id: paid.body.data.transaction_id as string, total }
}

function refundRequest(
  overrides: Record<string, string | undefined>,
): Record<string, string> & { out_refund_no: string } {
  return lookup({
    out_refund_no: orderNo('RF'),
    total_fee: '100',
    refund_fee: '30',
    notify_url: 'https://shop.test/refunds',
    ...overrides,
  }) as Record<string, string> & { out_refund_no: string }
}

const refund = (fields: Record<string, string>) => call('/secapi/pay/refund', fields)

describe('/secapi/pay/refund', () => {
  it('accepts a refund of a paid order: signed, PROCESSING, the §1.2 fields', async () => {
    const paid = await paidOrder(101)
    const request = refundRequest({ out_trade_no: paid.out_trade_no, total_fee: '101', refund_fee: '30' })
    const reply = await refund(request)
    await expectSigned(reply, 'HMAC-SHA256')
    expect(reply).toMatchObject({ result_code: 'SUCCESS', appid: APPID, mch_id: MCH_ID, refund_channel: '' })
    const receipt = refundReceiptOf(reply, {
      out_trade_no: paid.out_trade_no,
      out_refund_no: request.out_refund_no as string,
      total_fee: 101,
      refund_fee: 30,
    })
    expect(receipt).toEqual({
      out_trade_no: paid.out_trade_no,
      out_refund_no: request.out_refund_no,
      refund_id: expect.stringMatching(/^503[0-9]{26}$/),
      transaction_id: paid.transaction_id,
      refund_fee: 30,
      total_fee: 101,
      cash_fee: 101,
      cash_refund_fee: 30,
      coupon_refund_fee: 0,
    })
    const view = await dev(`/orders/${paid.out_trade_no}`)
    expect(view.body.data.refunds).toMatchObject([
      { out_refund_no: request.out_refund_no, refund_fee: 30, total_fee: 101, status: 'PROCESSING' },
    ])
  })

  it('turns the order’s orderquery trade_state to REFUND (转入退款)', async () => {
    const paid = await paidOrder()
    expect((await call('/pay/orderquery', lookup({ out_trade_no: paid.out_trade_no }))).trade_state).toBe('SUCCESS')
    await refund(refundRequest({ out_trade_no: paid.out_trade_no }))
    const after = await call('/pay/orderquery', lookup({ out_trade_no: paid.out_trade_no }))
    expect(after).toMatchObject({
      trade_state: 'REFUND',
      trade_state_desc: '转入退款',
      transaction_id: paid.transaction_id,
    })
  })

  it('finds the order by transaction_id, preferred over out_trade_no', async () => {
    const paid = await paidOrder()
    const reply = await refund(refundRequest({ transaction_id: paid.transaction_id, out_trade_no: 'NOSUCHORDER1' }))
    expect(reply.out_trade_no).toBe(paid.out_trade_no)
  })

  it('signs the reply MD5 for an MD5 request', async () => {
    const paid = await paidOrder()
    const reply = await call('/secapi/pay/refund', refundRequest({ out_trade_no: paid.out_trade_no }), {
      signType: 'MD5',
    })
    await expectSigned(reply, 'MD5')
  })

  it('refuses an unknown order and an unpaid one with ORDERNOTEXIST', async () => {
    await expectRefused(await refund(refundRequest({ out_trade_no: orderNo('NONE') })), 'ORDERNOTEXIST')
    const unpaid = order()
    await call('/pay/unifiedorder', unpaid)
    await expectRefused(await refund(refundRequest({ out_trade_no: unpaid.out_trade_no })), 'ORDERNOTEXIST')
  })

  it('answers refund_fee > total_fee as a protocol failure, unsigned: invalid refund_fee', async () => {
    const paid = await paidOrder()
    const reply = await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '101' }))
    expect({ ...reply }).toEqual({ return_code: 'FAIL', return_msg: 'invalid refund_fee' })
  })

  it('refuses a total_fee other than the order’s with INVALID_REQUEST', async () => {
    const paid = await paidOrder(100)
    await expectRefused(
      await refund(refundRequest({ out_trade_no: paid.out_trade_no, total_fee: '200' })),
      'INVALID_REQUEST',
    )
  })

  it('lets refunds add up to exactly total_fee, then refuses one fen more', async () => {
    const paid = await paidOrder(100)
    for (const fee of ['30', '30', '39']) {
      expect((await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: fee }))).result_code).toBe(
        'SUCCESS',
      )
    }
    const tooMuch = await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '2' }))
    await expectRefused(tooMuch, 'INVALID_REQUEST')
    expect(tooMuch.err_code_des).toContain('refund_fee大于可退金额')
    expect((await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '1' }))).result_code).toBe(
      'SUCCESS',
    )
    const full = await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '1' }))
    await expectRefused(full, 'ERROR')
    expect(full.err_code_des).toBe('订单已全额退款')
  })

  it('frees a closed refund’s amount, and resubmitting the closed refund under its number reopens it', async () => {
    const paid = await paidOrder(100)
    const first = refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '60' })
    await refund(first)
    await expectRefused(
      await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '41' })),
      'INVALID_REQUEST',
    )
    expect((await dev('/refund', { out_refund_no: first.out_refund_no, status: 'REFUNDCLOSE' })).status).toBe(200)
    expect((await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '41' }))).result_code).toBe(
      'SUCCESS',
    )
    // 41 are taken now: the closed 60 no longer fit, so resubmitting it is refused…
    await expectRefused(await refund({ ...first, nonce_str: nonceStr() }), 'INVALID_REQUEST')
    const other = await paidOrder(100)
    const closed = refundRequest({ out_trade_no: other.out_trade_no, refund_fee: '60' })
    const accepted = await refund(closed)
    await dev('/refund', { out_refund_no: closed.out_refund_no, status: 'REFUNDCLOSE' })
    // …while on an order with room it is PROCESSING again, with the same refund_id.
    const again = await refund({ ...closed, nonce_str: nonceStr() })
    expect(again.refund_id).toBe(accepted.refund_id)
    const view = await dev(`/orders/${other.out_trade_no}`)
    expect(view.body.data.refunds).toMatchObject([{ out_refund_no: closed.out_refund_no, status: 'PROCESSING' }])
  })

  it('answers the same out_refund_no with the same amounts as the same refund, once', async () => {
    const paid = await paidOrder(100)
    const request = refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '70' })
    const first = await refund(request)
    const second = await refund({ ...request, nonce_str: nonceStr() })
    expect(second.result_code).toBe('SUCCESS')
    expect(second.refund_id).toBe(first.refund_id)
    expect((await dev(`/orders/${paid.out_trade_no}`)).body.data.refunds).toHaveLength(1)
  })

  it('refuses the same out_refund_no with another amount (REFUND_FEE_MISMATCH) or for another order', async () => {
    const paid = await paidOrder(100)
    const request = refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '10' })
    await refund(request)
    const mismatch = await refund({ ...request, refund_fee: '11', nonce_str: nonceStr() })
    await expectRefused(mismatch, 'REFUND_FEE_MISMATCH')
    expect(mismatch.err_code_des).toBe('订单金额或退款金额与之前请求不一致,请核实后再试')
    const other = await paidOrder(100)
    await expectRefused(
      await refund({ ...request, out_trade_no: other.out_trade_no, nonce_str: nonceStr() }),
      'INVALID_REQUEST',
    )
  })

  it('allows at most 50 refunds per order', async () => {
    const paid = await paidOrder(100)
    for (let i = 0; i < 50; i++) {
      const reply = await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '1' }))
      expect(reply.result_code).toBe('SUCCESS')
    }
    const fiftyFirst = await refund(refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '1' }))
    await expectRefused(fiftyFirst, 'INVALID_REQUEST')
    expect(fiftyFirst.err_code_des).toContain('50')
  }, 30_000)

  it.each([
    ['no out_refund_no', { out_refund_no: undefined }, 'LACK_PARAMS'],
    ['no refund_fee', { refund_fee: undefined }, 'LACK_PARAMS'],
    ['neither order id', { out_trade_no: undefined }, 'LACK_PARAMS'],
    ['an out_refund_no with a space', { out_refund_no: 'RF 1' }, 'INVALID_REQUEST'],
    ['an out_refund_no of 65 characters', { out_refund_no: 'R'.repeat(65) }, 'INVALID_REQUEST'],
    ['a refund_fee of 0', { refund_fee: '0' }, 'INVALID_REQUEST'],
    ['a refund_fee in yuan', { refund_fee: '0.30' }, 'INVALID_REQUEST'],
    ['a notify_url with a query', { notify_url: 'https://shop.test/n?a=1' }, 'INVALID_REQUEST'],
    ['a refund_desc of 81 characters', { refund_desc: '退'.repeat(81) }, 'INVALID_REQUEST'],
    ['another mch_id', { mch_id: '1900000109' }, 'MCHID_NOT_EXIST'],
  ])('refuses a request with %s', async (_, overrides, errCode) => {
    const paid = await paidOrder(100)
    await expectRefused(await refund(refundRequest({ out_trade_no: paid.out_trade_no, ...overrides })), errCode)
  })

  it('refuses a request signed with another key: return_code FAIL 签名错误', async () => {
    const reply = await call('/secapi/pay/refund', refundRequest({ out_trade_no: 'X123456' }), {
      key: 'another0key0another0key0another0',
    })
    expect({ ...reply }).toEqual({ return_code: 'FAIL', return_msg: '签名错误' })
  })
})

describe('/pay/refundquery', () => {
  const query = (ids: Record<string, string>) => call('/pay/refundquery', lookup(ids))

  it('reports a refund by out_refund_no, by refund_id, and by order, with _$n fields', async () => {
    const paid = await paidOrder(101)
    const first = refundRequest({ out_trade_no: paid.out_trade_no, total_fee: '101', refund_fee: '30' })
    const second = refundRequest({ out_trade_no: paid.out_trade_no, total_fee: '101', refund_fee: '20' })
    const accepted = await refund(first)
    await refund(second)
    await dev('/refund', { out_refund_no: first.out_refund_no })

    const byNo = await query({ out_refund_no: first.out_refund_no })
    await expectSigned(byNo, 'HMAC-SHA256')
    expect(byNo).toMatchObject({ refund_count: '1', out_refund_no_0: first.out_refund_no, refund_status_0: 'SUCCESS' })
    const parsed = refundQueryOf(byNo, {})
    expect(parsed).toEqual({
      out_trade_no: paid.out_trade_no,
      transaction_id: paid.transaction_id,
      total_fee: 101,
      cash_fee: 101,
      refunds: [
        {
          out_refund_no: first.out_refund_no,
          refund_id: accepted.refund_id,
          refund_fee: 30,
          settlement_refund_fee: 30,
          refund_status: 'SUCCESS',
          success_time: expect.stringMatching(/^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d$/),
          refund_recv_accout: '支付用户零钱',
          refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
          refund_channel: 'ORIGINAL',
        },
      ],
    })
    expect(refundQueryOf(await query({ refund_id: accepted.refund_id as string }), {}).refunds).toEqual(parsed.refunds)

    for (const ids of [{ out_trade_no: paid.out_trade_no }, { transaction_id: paid.transaction_id }] as Record<
      string,
      string
    >[]) {
      const byOrder = refundQueryOf(await query(ids), {})
      expect(byOrder.refunds.map((r) => [r.out_refund_no, r.refund_fee, r.refund_status])).toEqual([
        [first.out_refund_no, 30, 'SUCCESS'],
        [second.out_refund_no, 20, 'PROCESSING'],
      ])
      expect(byOrder.refunds[1]).not.toHaveProperty('success_time')
    }
  })

  it('pages an order’s refunds by ten with offset and total_refund_count, PARAM_ERROR past the end', async () => {
    const paid = await paidOrder(100)
    const numbers: string[] = []
    for (let i = 0; i < 12; i++) {
      const request = refundRequest({ out_trade_no: paid.out_trade_no, refund_fee: '1' })
      numbers.push(request.out_refund_no ?? '')
      await refund(request)
    }
    const first = await query({ out_trade_no: paid.out_trade_no })
    expect(first).toMatchObject({ refund_count: '10', total_refund_count: '12' })
    expect(refundQueryOf(first, {}).refunds.map((r) => r.out_refund_no)).toEqual(numbers.slice(0, 10))
    const rest = refundQueryOf(await query({ out_trade_no: paid.out_trade_no, offset: '10' }), {})
    expect(rest.refunds.map((r) => r.out_refund_no)).toEqual(numbers.slice(10))
    expect(rest.total_refund_count).toBe(12)
    await expectRefused(await query({ out_trade_no: paid.out_trade_no, offset: '12' }), 'PARAM_ERROR')
  })

  it('answers REFUNDNOTEXIST for an unknown refund, an order without refunds and an unknown order', async () => {
    const paid = await paidOrder()
    await expectRefused(await query({ out_refund_no: orderNo('NOPE') }), 'REFUNDNOTEXIST')
    await expectRefused(await query({ refund_id: '50300000000000000000000000000' }), 'REFUNDNOTEXIST')
    await expectRefused(await query({ out_trade_no: paid.out_trade_no }), 'REFUNDNOTEXIST')
    await expectRefused(await query({ out_trade_no: orderNo('NOPE') }), 'REFUNDNOTEXIST')
  })

  it('needs one of the four ids', async () => {
    await expectRefused(await query({}), 'LACK_PARAMS')
  })

  it('refuses GET like every endpoint', async () => {
    const { fields } = await postRaw('/pay/refundquery', null, 'GET')
    expect({ ...fields }).toEqual({ return_code: 'FAIL', return_msg: '请使用post方法' })
    const body = encode(await signed(lookup({ out_refund_no: 'x' }), { key: 'another0key0another0key0another0' }))
    expect({ ...(await postRaw('/pay/refundquery', body)).fields }).toEqual({
      return_code: 'FAIL',
      return_msg: '签名错误',
    })
  })
})
