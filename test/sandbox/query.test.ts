/** 查询订单 and 关闭订单 through an order's life: NOTPAY → SUCCESS or CLOSED. */
import { describe, expect, it } from 'vitest'
import { call, dev, expectRefused, expectSigned, lookup, order } from './client'

/** Places an order and returns its fields. */
async function placed(
  overrides: Record<string, string | undefined> = {},
  signType: 'MD5' | 'HMAC-SHA256' = 'HMAC-SHA256',
) {
  const fields = order(overrides)
  expect((await call('/pay/unifiedorder', fields, { signType })).result_code).toBe('SUCCESS')
  return fields
}

describe('orderquery', () => {
  it('reports a new order as NOTPAY with its fields as strings and no payment fields', async () => {
    const fields = await placed({ attach: '订单额外描述', device_info: 'WEB' })
    const reply = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }), { signType: 'MD5' })
    await expectSigned(reply, 'MD5')
    expect(reply).toMatchObject({
      result_code: 'SUCCESS',
      out_trade_no: fields.out_trade_no,
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
      total_fee: '100',
      fee_type: 'CNY',
      trade_type: 'JSAPI',
      attach: '订单额外描述',
      device_info: 'WEB',
      openid: fields.openid,
    })
    for (const name of ['transaction_id', 'time_end', 'bank_type', 'cash_fee', 'coupon_fee']) {
      expect(reply[name], name).toBeUndefined()
    }
  })

  it('reports a paid order as SUCCESS with the payment fields', async () => {
    const fields = await placed()
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no, sign_type_field: 'omit' })
    const reply = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }))
    await expectSigned(reply, 'HMAC-SHA256')
    expect(reply).toMatchObject({
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      transaction_id: paid.body.data.transaction_id,
      total_fee: '100',
      cash_fee: '100',
      bank_type: 'CFT',
      is_subscribe: 'N',
      openid: fields.openid,
    })
    expect(reply.transaction_id).toMatch(/^4200000[0-9]{21}$/)
    expect(reply.time_end).toMatch(/^20[0-9]{12}$/)
    expect(reply.coupon_count).toBeUndefined()
  })

  it('reports a coupon as flat indexed fields and pays the rest in cash', async () => {
    const fields = await placed({ total_fee: '1000' })
    await dev('/pay', { out_trade_no: fields.out_trade_no, coupon_fee: 300 })
    const reply = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }))
    expect(reply).toMatchObject({
      total_fee: '1000',
      cash_fee: '700',
      coupon_fee: '300',
      coupon_count: '1',
      coupon_type_0: 'CASH',
      coupon_fee_0: '300',
    })
    expect(reply.coupon_id_0).toMatch(/^[0-9]+$/)
  })

  it('makes up a stable openid for a paid non-JSAPI order', async () => {
    const fields = await placed({ trade_type: 'NATIVE', product_id: 'sku-1', openid: undefined })
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    const first = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }))
    const second = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }))
    expect(first.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/)
    expect(second.openid).toBe(first.openid)
  })

  it('finds an order by transaction_id, preferred over out_trade_no', async () => {
    const fields = await placed()
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
    const transactionId = paid.body.data.transaction_id
    const reply = await call(
      '/pay/orderquery',
      lookup({ transaction_id: transactionId, out_trade_no: 'someOtherOrder' }),
    )
    expect(reply).toMatchObject({
      result_code: 'SUCCESS',
      out_trade_no: fields.out_trade_no,
      transaction_id: transactionId,
    })
  })

  it.each([
    ['an unknown out_trade_no', { out_trade_no: 'neverPlaced1' }],
    ['an unknown transaction_id', { transaction_id: '4200000000202401010000000000' }],
  ])('refuses %s with ORDERNOTEXIST', async (_, ids) => {
    const reply = await call('/pay/orderquery', lookup(ids))
    await expectRefused(reply, 'ORDERNOTEXIST')
    expect(reply.err_code_des).toBe('此交易订单号不存在')
  })

  it('refuses a query with neither id with LACK_PARAMS', async () => {
    await expectRefused(await call('/pay/orderquery', lookup({})), 'LACK_PARAMS')
  })
})

describe('closeorder', () => {
  it('closes a NOTPAY order, then refuses to close it again', async () => {
    const fields = await placed({}, 'MD5')
    const reply = await call('/pay/closeorder', lookup({ out_trade_no: fields.out_trade_no }), { signType: 'MD5' })
    await expectSigned(reply, 'MD5')
    expect(reply).toMatchObject({ result_code: 'SUCCESS', result_msg: 'OK' })
    const query = await call('/pay/orderquery', lookup({ out_trade_no: fields.out_trade_no }))
    expect(query).toMatchObject({ trade_state: 'CLOSED', trade_state_desc: '订单已关闭' })
    await expectRefused(await call('/pay/closeorder', lookup({ out_trade_no: fields.out_trade_no })), 'ORDERCLOSED')
  })

  it('refuses to close a paid order with ORDERPAID', async () => {
    const fields = await placed()
    await dev('/pay', { out_trade_no: fields.out_trade_no })
    await expectRefused(await call('/pay/closeorder', lookup({ out_trade_no: fields.out_trade_no })), 'ORDERPAID')
  })

  it('refuses an unknown order with ORDERNOTEXIST', async () => {
    await expectRefused(await call('/pay/closeorder', lookup({ out_trade_no: 'neverPlaced2' })), 'ORDERNOTEXIST')
  })

  it('needs out_trade_no: transaction_id alone is LACK_PARAMS', async () => {
    const reply = await call('/pay/closeorder', lookup({ transaction_id: '4200000000202401010000000000' }))
    await expectRefused(reply, 'LACK_PARAMS')
  })

  it('keeps a closed order from being paid', async () => {
    const fields = await placed()
    await call('/pay/closeorder', lookup({ out_trade_no: fields.out_trade_no }))
    const paid = await dev('/pay', { out_trade_no: fields.out_trade_no })
    expect(paid.status).toBe(409)
    expect(paid.body.error.code).toBe('ORDERCLOSED')
  })
})
