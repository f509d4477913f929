/**
 * A verified notification still has to carry sane values: empty elements (unsigned in v2) are
 * dropped, never relayed; another currency, cash above the total, or a state other than SUCCESS
 * is refused, logged, and changes nothing.
 */
import { describe, expect, it } from 'vitest'
import { ledgerRecord } from '../support/ledger'
import { deliver, notification, placeOrder, SUCCESS_XML, shop } from '../support/payments'
import { captureLogs } from '../support/secrets'

describe('empty elements of a notification', () => {
  it('are dropped: no "attach": "" and no coupon made of empty fields reaches the shop', async () => {
    const received = shop()
    const order = await placeOrder()
    const message = await notification(order, {
      fields: { attach: '', coupon_count: '', coupon_id_0: '', coupon_fee_0: '', coupon_type_0: '', device_info: '' },
    })
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(received).toHaveLength(1)
    const { data } = JSON.parse(received[0]?.body as string)
    expect(data).not.toHaveProperty('attach')
    expect(data).not.toHaveProperty('coupons')
    expect(Object.values(data)).not.toContain('')
  })

  it('a coupon with some fields empty keeps only the ones WeChat sent', async () => {
    const received = shop()
    const order = await placeOrder()
    const message = await notification(order, {
      fields: {
        coupon_count: '1',
        coupon_id_0: '9',
        coupon_fee_0: '1',
        coupon_type_0: '',
        cash_fee: String(order.total_fee - 1),
      },
    })
    expect((await deliver(message)).text).toBe(SUCCESS_XML)
    expect(JSON.parse(received[0]?.body as string).data.coupons).toEqual([{ id: '9', fee: 1 }])
  })
})

describe('values a payment cannot have', () => {
  it.each([
    ['fee_type USD', { fee_type: 'USD' }, 'fee_type USD is not CNY'],
    ['cash_fee above total_fee', { cash_fee: '102' }, 'cash_fee 102 is above total_fee 101'],
    ['trade_state other than SUCCESS', { trade_state: 'PAYERROR' }, 'trade_state is PAYERROR, not SUCCESS'],
  ])('%s → FAIL, logged as malformed, nothing recorded or relayed', async (_case, fields, error) => {
    const logs = captureLogs()
    const received = shop()
    const order = await placeOrder()
    const before = await ledgerRecord(order.out_trade_no)
    const reply = await deliver(await notification(order, { fields }))
    expect(reply.text).toContain('FAIL')
    expect(received).toHaveLength(0)
    expect(await ledgerRecord(order.out_trade_no)).toEqual(before)
    expect(logs()).toEqual([{ event: 'notify_rejected', reason: 'malformed', out_trade_no: order.out_trade_no, error }])
  })
})
