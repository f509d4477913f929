/**
 * @module
 * 下载对账单 (refunds reference §4): the ALL bill of one Beijing day, made from the sandbox's own
 * orders — payments whose time_end is that day, refunds accepted that day — in the exact shape of
 * §4.3–§4.4: header, backtick-prefixed values, summary. Failures are unsigned XML with return_msg
 * and error_code (`No Bill Exist` 20002 for a day without trades, `invalid bill_date` 20001).
 * The sandbox serves bill_type ALL only; its bill is made on request, so refund states are current.
 * 手续费 is 0.6 % rounded to the fen (the sandbox's choice, as in §4.4). Values are written as they
 * are, as WeChat does (§4.3): a comma in 商品名称 or 商户数据包 stays a comma, each value keeps its
 * leading backtick, and the bill's reader splits on `` ,` ``. With tar_type=GZIP the bill is gzipped.
 */
import type { Context } from 'hono'
import { loadConfig } from '../config'
import { encode } from '../wechat/xml'
import { billBody, type Line, serviceFee, yuan } from './bill-text'
import type { SandboxEnv } from './http'
import { loadOrder, type Order, ordersOfDay } from './orders'
import { readRequest } from './protocol'
import { checkMerchant } from './rules'
import { beijingDateTime, beijingMs, beijingTime } from './time'

export { billText } from './bill-text'

/** Answers `/pay/downloadbill`. */
export async function answerBill(c: Context<SandboxEnv>): Promise<Response> {
  const config = loadConfig(c.env)
  const request = await readRequest(c.req.raw, config.apiKey)
  if ('returnMsg' in request) return failure(request.returnMsg, '20003')
  const { fields } = request
  if (checkMerchant(fields, config)) return failure('invalid appid or mch_id', '20001')
  const day = fields.bill_date ?? ''
  if (!/^[0-9]{8}$/.test(day) || beijingMs(`${day}000000`) === undefined) return failure('invalid bill_date', '20001')
  if ((fields.bill_type || 'ALL') !== 'ALL') return failure('invalid bill_type', '20001')
  if (fields.tar_type && fields.tar_type !== 'GZIP') return failure('invalid tar_type', '20001')

  const orders: Order[] = []
  for (const outTradeNo of await ordersOfDay(c.var.kv, day)) {
    const order = await loadOrder(c.var.kv, outTradeNo)
    if (order) orders.push(order)
  }
  const rows = billRows(orders, day)
  if (rows.length === 0) return failure('No Bill Exist', '20002')
  const body = billBody(rows)
  if (fields.tar_type !== 'GZIP')
    return new Response(body, { headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  const gzip = body.pipeThrough(new CompressionStream('gzip'))
  return new Response(gzip, { headers: { 'Content-Type': 'application/x-gzip' } })
}

function failure(returnMsg: string, errorCode: string): Response {
  return new Response(encode({ return_code: 'FAIL', return_msg: returnMsg, error_code: errorCode }), {
    headers: { 'Content-Type': 'text/xml; charset=utf-8' },
  })
}

/** The detail lines of one day, in time order. */
export function billRows(orders: readonly Order[], day: string): Line[] {
  const lines: Line[] = []
  for (const order of orders) {
    const { request, payment } = order
    if (!payment) continue
    const total = Number(request.total_fee)
    const common = {
      公众账号ID: request.appid ?? '',
      商户号: request.mch_id ?? '',
      特约商户号: '0',
      设备号: request.device_info ?? '',
      微信订单号: payment.transaction_id,
      商户订单号: order.out_trade_no,
      用户标识: payment.openid,
      交易类型: request.trade_type ?? '',
      付款银行: payment.bank_type,
      货币种类: 'CNY',
      商品名称: request.body ?? '',
      商户数据包: request.attach ?? '',
      费率: '0.60%',
      费率备注: '',
    }
    if (payment.time_end.startsWith(day)) {
      const fee = feeOf(total)
      const ms = beijingMs(payment.time_end) ?? 0
      lines.push({
        time: beijingTime(ms),
        cells: {
          ...common,
          交易时间: beijingDateTime(ms),
          交易状态: 'SUCCESS',
          应结订单金额: yuan(total),
          代金券金额: yuan(Number(payment.coupon_fee ?? 0)),
          微信退款单号: '0',
          商户退款单号: '0',
          退款金额: '0.00',
          充值券退款金额: '0.00',
          退款类型: '',
          退款状态: '',
          手续费: serviceFee(fee),
          订单金额: yuan(total),
          申请退款金额: '0.00',
        },
        settlement: total,
        refund: 0,
        fee,
        total,
        applied: 0,
      })
    }
    for (const refund of order.refunds ?? []) {
      if (!beijingTime(refund.created_at).startsWith(day)) continue
      const amount = Number(refund.refund_fee)
      const fee = -feeOf(amount)
      lines.push({
        time: beijingTime(refund.created_at),
        cells: {
          ...common,
          交易时间: beijingDateTime(refund.created_at),
          交易状态: 'REFUND',
          应结订单金额: '0.00',
          代金券金额: '0.00',
          微信退款单号: refund.refund_id,
          商户退款单号: refund.out_refund_no,
          退款金额: yuan(amount),
          充值券退款金额: '0.00',
          退款类型: 'ORIGINAL',
          退款状态: refund.status,
          手续费: serviceFee(fee),
          订单金额: '0.00',
          申请退款金额: yuan(amount),
        },
        settlement: 0,
        refund: amount,
        fee,
        total: 0,
        applied: amount,
      })
    }
  }
  return lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
}

/** 0.6 % of an amount in fen, rounded half up to the fen. */
function feeOf(fen: number): number {
  return Math.floor((fen * 6 + 500) / 1000)
}
