/**
 * @module
 * Refund messages (refunds reference §1–§3): request fields, the refund reply, refundquery's
 * indexed `_$n` fields, the decrypted notification; amounts as integers of fen, anything
 * missing or malformed refused.
 */
import { describe, expect, it } from 'vitest'
import { PayError } from '../../src/errors'
import {
  RETRYABLE_REFUND_ERRORS,
  refundFields,
  refundNoticeOf,
  refundQueryOf,
  refundReceiptOf,
} from '../../src/wechat/refund'
import { decryptRefundNotice } from '../../src/wechat/refund-notify'
import type { Fields } from '../../src/wechat/xml'
import { VECTORS } from './refund-vectors'

const fields = (record: Record<string, string>): Fields => ({ ...record })

function upstream(run: () => unknown, message?: string): void {
  let error: unknown
  try {
    run()
  } catch (err) {
    error = err
  }
  expect(error).toBeInstanceOf(PayError)
  expect((error as PayError).failure.kind).toBe('upstream')
  if (message) expect((error as PayError).message).toContain(message)
}

describe('refundFields', () => {
  const base = {
    out_trade_no: 'ORD20261129001',
    out_refund_no: 'RF20261129001',
    total_fee: 101,
    refund_fee: 30,
    notify_url: 'https://pay.example.com/v1/pay/notify/refund',
  }

  it('writes the §1.1 fields, amounts as decimal fen', () => {
    expect(refundFields({ ...base, refund_desc: '商品已售完' })).toEqual({
      out_trade_no: 'ORD20261129001',
      out_refund_no: 'RF20261129001',
      total_fee: '101',
      refund_fee: '30',
      refund_desc: '商品已售完',
      notify_url: 'https://pay.example.com/v1/pay/notify/refund',
    })
    expect(refundFields(base)).not.toHaveProperty('refund_desc')
  })

  it.each([
    ['refund_fee 0', { refund_fee: 0 }],
    ['refund_fee above total_fee', { refund_fee: 102 }],
    ['a fractional refund_fee', { refund_fee: 0.3 }],
    ['a fractional total_fee', { total_fee: 100.5 }],
    ['total_fee 0', { total_fee: 0, refund_fee: 0 }],
    ['an out_refund_no of 65 characters', { out_refund_no: 'R'.repeat(65) }],
    ['an out_refund_no with a space', { out_refund_no: 'RF 1' }],
    ['a refund_desc of 81 characters', { refund_desc: '退'.repeat(81) }],
    ['a refund_desc with an emoji', { refund_desc: 'ok 😀' }],
    ['a notify_url with a query', { notify_url: 'https://a.test/n?x=1' }],
  ])('refuses %s', (_, change) => {
    expect(() => refundFields({ ...base, ...change })).toThrow(PayError)
  })

  it('accepts the whole out_refund_no alphabet, @ included, up to 64 characters', () => {
    const out_refund_no = 'Az09_-|*@'.padEnd(64, 'x')
    expect(refundFields({ ...base, out_refund_no }).out_refund_no).toBe(out_refund_no)
    expect(refundFields({ ...base, refund_fee: 101 }).refund_fee).toBe('101')
  })
})

describe('refundReceiptOf', () => {
  // The real success reply of reference §1.2 ([REAL5]), ids from the doc sample.
  const reply = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: 'wx2421b1c4370ec43b',
    mch_id: '10000100',
    nonce_str: 'NfsMFbUFpdbEhPXP',
    sign: 'X',
    result_code: 'SUCCESS',
    transaction_id: '1008450740201411110005820873',
    out_trade_no: '1415757673',
    out_refund_no: '1415701182',
    refund_id: '2008450740201411110000174436',
    refund_channel: '',
    refund_fee: '10',
    total_fee: '10',
    cash_fee: '10',
    cash_refund_fee: '10',
    coupon_refund_count: '0',
    coupon_refund_fee: '0',
  }

  const asked = { out_trade_no: '1415757673', out_refund_no: '1415701182', total_fee: 10, refund_fee: 10 }

  it('reads ids and amounts as integers of fen', () => {
    expect(refundReceiptOf(fields(reply), asked)).toEqual({
      out_trade_no: '1415757673',
      out_refund_no: '1415701182',
      refund_id: '2008450740201411110000174436',
      transaction_id: '1008450740201411110005820873',
      refund_fee: 10,
      total_fee: 10,
      cash_fee: 10,
      cash_refund_fee: 10,
      coupon_refund_fee: 0,
    })
  })

  it.each([
    ['refund_id missing', { refund_id: undefined }, 'refund_id'],
    ['refund_fee in yuan', { refund_fee: '0.10' }, 'refund_fee'],
    ['total_fee negative', { total_fee: '-10' }, 'total_fee'],
    ['cash_fee with a leading zero', { cash_fee: '010' }, 'cash_fee'],
    ['out_refund_no empty', { out_refund_no: '' }, 'out_refund_no'],
  ])('refuses a reply with %s', (_, change, name) => {
    const changed = Object.fromEntries(
      Object.entries({ ...reply, ...change }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    )
    upstream(() => refundReceiptOf(fields(changed), asked), name)
  })

  it.each([
    ['another order', { out_trade_no: '1415757674' }, 'out_trade_no'],
    ['another refund', { out_refund_no: '1415701183' }, 'out_refund_no'],
    ['another total_fee', { total_fee: '11' }, 'total_fee'],
    ['another refund_fee', { refund_fee: '9' }, 'refund_fee'],
  ])('refuses a reply about %s than was asked', (_, change, name) => {
    upstream(() => refundReceiptOf(fields({ ...reply, ...change }), asked), name)
  })
})

describe('refundQueryOf', () => {
  const head = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    transaction_id: '1008450740201411110005820873',
    out_trade_no: '1415757673',
    total_fee: '101',
    cash_fee: '101',
  }

  it('reads the doc sample (WxJava test copy, §2.2)', () => {
    const sample = {
      out_refund_no_0: '1415701182',
      out_trade_no: '1415757673',
      refund_count: '1',
      refund_fee_0: '1',
      refund_id_0: '2008450740201411110000174436',
      refund_status_0: 'PROCESSING',
      result_code: 'SUCCESS',
      return_code: 'SUCCESS',
      total_fee: '1',
      transaction_id: '1008450740201411110005820873',
    }
    expect(refundQueryOf(fields(sample), {})).toEqual({
      out_trade_no: '1415757673',
      transaction_id: '1008450740201411110005820873',
      total_fee: 1,
      refunds: [
        {
          out_refund_no: '1415701182',
          refund_id: '2008450740201411110000174436',
          refund_fee: 1,
          refund_status: 'PROCESSING',
        },
      ],
    })
  })

  it('gathers refunds _0 … _n in order with their optional fields', () => {
    const query = refundQueryOf(
      fields({
        ...head,
        refund_count: '3',
        total_refund_count: '3',
        out_refund_no_0: 'R0',
        refund_id_0: '50300000000000000000000000000',
        refund_fee_0: '30',
        settlement_refund_fee_0: '30',
        refund_status_0: 'SUCCESS',
        refund_success_time_0: '2026-11-29 10:15:02',
        refund_recv_accout_0: '支付用户零钱',
        refund_account_0: 'REFUND_SOURCE_UNSETTLED_FUNDS',
        refund_channel_0: 'ORIGINAL',
        out_refund_no_1: 'R1',
        refund_id_1: '50300000000000000000000000001',
        refund_fee_1: '20',
        refund_status_1: 'REFUNDCLOSE',
        out_refund_no_2: 'R2',
        refund_id_2: '50300000000000000000000000002',
        refund_fee_2: '51',
        refund_status_2: 'CHANGE',
        coupon_refund_fee_2: '0',
        coupon_type_2_0: 'CASH',
      }),
      {},
    )
    expect(query.total_fee).toBe(101)
    expect(query.cash_fee).toBe(101)
    expect(query.total_refund_count).toBe(3)
    expect(query.refunds).toEqual([
      {
        out_refund_no: 'R0',
        refund_id: '50300000000000000000000000000',
        refund_fee: 30,
        settlement_refund_fee: 30,
        refund_status: 'SUCCESS',
        success_time: '2026-11-29 10:15:02',
        refund_recv_accout: '支付用户零钱',
        refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
        refund_channel: 'ORIGINAL',
      },
      { out_refund_no: 'R1', refund_id: '50300000000000000000000000001', refund_fee: 20, refund_status: 'REFUNDCLOSE' },
      { out_refund_no: 'R2', refund_id: '50300000000000000000000000002', refund_fee: 51, refund_status: 'CHANGE' },
    ])
  })

  it('reads the unindexed single-refund form some replies use', () => {
    const query = refundQueryOf(
      fields({
        ...head,
        out_refund_no: 'R9',
        refund_id: '50300000000000000000000000009',
        refund_fee: '9',
        refund_status: 'SUCCESS',
        refund_success_time: '2021-03-01 12:00:00',
      }),
      {},
    )
    expect(query.refunds).toEqual([
      {
        out_refund_no: 'R9',
        refund_id: '50300000000000000000000000009',
        refund_fee: 9,
        refund_status: 'SUCCESS',
        success_time: '2021-03-01 12:00:00',
      },
    ])
  })

  it('reads the older FAIL status as REFUNDCLOSE', () => {
    const query = refundQueryOf(
      fields({
        ...head,
        refund_count: '1',
        out_refund_no_0: 'R',
        refund_id_0: '5',
        refund_fee_0: '1',
        refund_status_0: 'FAIL',
      }),
      {},
    )
    expect(query.refunds[0]?.refund_status).toBe('REFUNDCLOSE')
  })

  it.each([
    ['refund_count says 2 but only _0 is there', { refund_count: '2' }, 'out_refund_no_1'],
    ['refund_count is missing', {}, 'refund_count'],
    ['an unknown refund_status', { refund_count: '1', refund_status_0: 'DONE' }, 'refund_status_0'],
    ['a refund_fee_0 in yuan', { refund_count: '1', refund_fee_0: '0.01' }, 'refund_fee_0'],
    [
      'a success time in another format',
      { refund_count: '1', refund_success_time_0: '20261129101502' },
      'refund_success_time_0',
    ],
    ['total_fee missing', { refund_count: '1', total_fee: '' }, 'total_fee'],
    ['refund_count above 50', { refund_count: '51' }, 'refund_count'],
  ])('refuses a reply where %s', (_, change, name) => {
    const one = { out_refund_no_0: 'R', refund_id_0: '5', refund_fee_0: '1', refund_status_0: 'SUCCESS' }
    const base: Record<string, string> = 'refund_count' in change ? { ...head, ...one } : { ...head }
    if (!('refund_count' in change)) delete base.refund_count
    upstream(() => refundQueryOf(fields({ ...base, ...change }), {}), name)
  })

  it.each([
    ['is about another order', { out_trade_no: '1415757674' }, 'about order 1415757673'],
    ['states another total_fee', { total_fee: 100 }, 'total_fee 101'],
    ['lacks the refund asked for', { out_refund_no: 'R2' }, 'does not report it'],
    ['reports another refund_fee', { refunds: [{ out_refund_no: 'R', refund_fee: 2 }] }, 'refund_fee 1 for R'],
  ])('refuses a reply that %s than was asked', (_, asked, message) => {
    const reply = {
      ...head,
      refund_count: '1',
      out_refund_no_0: 'R',
      refund_id_0: '5',
      refund_fee_0: '1',
      refund_status_0: 'SUCCESS',
    }
    const matching = {
      out_trade_no: '1415757673',
      out_refund_no: 'R',
      total_fee: 101,
      refunds: [{ out_refund_no: 'R', refund_fee: 1 }],
    }
    expect(refundQueryOf(fields(reply), matching).refunds).toHaveLength(1)
    upstream(() => refundQueryOf(fields(reply), { ...matching, ...asked }), message)
  })
})

describe('refundNoticeOf', () => {
  it('reads the decrypted reference vector', async () => {
    const notice = refundNoticeOf(await decryptRefundNotice(VECTORS.reference.reqInfo, VECTORS.reference.key))
    expect(notice).toEqual({
      out_trade_no: 'ORD20261129001',
      transaction_id: '4200000001202611290000000001',
      out_refund_no: 'RF20261129001',
      refund_id: '50300000012026112900000000001',
      total_fee: 101,
      refund_fee: 30,
      settlement_refund_fee: 30,
      settlement_total_fee: 101,
      refund_status: 'SUCCESS',
      success_time: '2026-11-29 10:15:02',
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_request_source: 'API',
    })
  })

  it('reads a REFUNDCLOSE notice without success_time', async () => {
    const notice = refundNoticeOf(await decryptRefundNotice(VECTORS.closed.reqInfo, VECTORS.closed.key))
    expect(notice.refund_status).toBe('REFUNDCLOSE')
    expect(notice).not.toHaveProperty('success_time')
  })

  it('refuses a notice whose refund_fee is not an integer of fen', async () => {
    const decrypted = await decryptRefundNotice(VECTORS.fractionalFee.reqInfo, VECTORS.fractionalFee.key)
    upstream(() => refundNoticeOf(decrypted), 'refund_fee')
  })

  it.each([
    ['PROCESSING (never notified)', { refund_status: 'PROCESSING' }, 'refund_status'],
    ['SUCCESS without success_time', { success_time: '' }, 'success_time'],
    ['refund_fee above total_fee', { refund_fee: '102' }, 'refund_fee > total_fee'],
    ['no settlement_refund_fee', { settlement_refund_fee: '' }, 'settlement_refund_fee'],
    ['no refund_recv_accout', { refund_recv_accout: '' }, 'refund_recv_accout'],
  ])('refuses a notice with %s', async (_, change, message) => {
    const decrypted = { ...(await decryptRefundNotice(VECTORS.reference.reqInfo, VECTORS.reference.key)), ...change }
    upstream(() => refundNoticeOf(decrypted), message)
  })
})

describe('RETRYABLE_REFUND_ERRORS', () => {
  it('holds the codes the reference says to retry with the same parameters (§1.4, §5.5), and no others', () => {
    expect([...RETRYABLE_REFUND_ERRORS].sort()).toEqual([
      'BIZERR_NEED_RETRY',
      'FREQUENCY_LIMITED',
      'INVALID_REQ_TOO_MUCH',
      'ORDER_NOT_READY',
      'SYSTEMERROR',
    ])
    for (const final of [
      'NOTENOUGH',
      'REFUND_FEE_MISMATCH',
      'INVALID_REQUEST',
      'ERROR',
      'ORDERNOTEXIST',
      'TRADE_OVERDUE',
    ])
      expect(RETRYABLE_REFUND_ERRORS.has(final)).toBe(false)
  })
})
