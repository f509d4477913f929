/**
 * @module
 * The parameters a payer's client needs to pay a v3 order, signed with the merchant key
 * (SHA256withRSA over four lines, v3 reference §6.8, §6.9). `signType` is not signed.
 */
import type { Config } from '../../config'
import { requireV3 } from './client'
import { merchantKey, rsaSign } from './crypto'

export type JsapiParams = {
  appId: string
  timeStamp: string
  nonceStr: string
  package: string
  signType: 'RSA'
  paySign: string
}

/**
 * getBrandWCPayRequest / wx.requestPayment: paySign over `appId\ntimeStamp\nnonceStr\npackage\n`.
 * @example await jsapiParams(config, { prepayId, timeStamp: '1767225600', nonceStr }) // { …, signType: 'RSA', paySign }
 */
export async function jsapiParams(
  config: Config,
  p: { prepayId: string; timeStamp: string; nonceStr: string; appid?: string },
): Promise<JsapiParams> {
  const key = await merchantKey(requireV3(config).privateKey)
  const pkg = `prepay_id=${p.prepayId}`
  const appId = p.appid ?? config.appid
  const paySign = await rsaSign(key, `${appId}\n${p.timeStamp}\n${p.nonceStr}\n${pkg}\n`)
  return { appId, timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: pkg, signType: 'RSA', paySign }
}

export type AppParams = {
  appid: string
  partnerid: string
  prepayid: string
  package: 'Sign=WXPay'
  noncestr: string
  timestamp: string
  sign: string
}

/**
 * The APP SDK's PayReq: sign over `appid\ntimestamp\nnoncestr\nprepayid\n`, the bare prepay id (§6.9).
 * @example await appParams(config, { prepayId, timestamp: '1767225600', noncestr })
 */
export async function appParams(
  config: Config,
  p: { prepayId: string; timestamp: string; noncestr: string; appid?: string },
): Promise<AppParams> {
  const key = await merchantKey(requireV3(config).privateKey)
  const appid = p.appid ?? config.appid
  const sign = await rsaSign(key, `${appid}\n${p.timestamp}\n${p.noncestr}\n${p.prepayId}\n`)
  return {
    appid,
    partnerid: config.mchId,
    prepayid: p.prepayId,
    package: 'Sign=WXPay',
    noncestr: p.noncestr,
    timestamp: p.timestamp,
    sign,
  }
}
