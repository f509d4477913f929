/**
 * @module
 * 申请交易账单 and 下载账单 in v3 (reference §6.12). `GET /v3/bill/tradebill?bill_date=yyyy-MM-dd`
 * (`bill_type` ALL only in the sandbox, optional `tar_type=GZIP`) makes the day's bill from the
 * sandbox's records — the same CSV as v2's downloadbill (bill.ts) — and answers `hash_type SHA1`,
 * `hash_value` (SHA-1 of the uncompressed CSV) and a `download_url`, valid 5 minutes. The download
 * is a signed GET like any other request, answered with the raw file (gzip when asked) and no
 * signature, as WeChat does. A day without trades is `400 NO_STATEMENT_EXIST`.
 * KV: `sandbox:v3bill:<token>` → `{csv, gzip}` with a 300 s TTL.
 */

import { sha1Hex } from '../../wechat/v3/crypto'
import { billRows, billText } from '../bill'
import { randomString } from '../ids'
import { loadOrder, type Order, ordersOfDay } from '../orders'
import { beijingMs } from '../time'
import { paramError } from './fields'
import { refuse, type WechatError } from './protocol'
import type { Answer } from './transactions'

const TTL_SECONDS = 300
const fileKey = (token: string) => `sandbox:v3bill:${token}`

type File = { csv: string; gzip: boolean }

/** Answers `GET /v3/bill/tradebill`; `base` is the URL up to `/v3` (the sandbox's own origin and mount). */
export async function tradeBill(options: {
  kv: KVNamespace
  query: URLSearchParams
  base: string
}): Promise<Answer | WechatError> {
  const { kv, query, base } = options
  const date = query.get('bill_date') ?? ''
  const day = date.replaceAll('-', '')
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || beijingMs(`${day}000000`) === undefined) {
    return paramError('bill_date', '须为yyyy-MM-dd格式的日期', 'query')
  }
  if ((query.get('bill_type') ?? 'ALL') !== 'ALL') return paramError('bill_type', '沙箱仅提供ALL账单', 'query')
  const tar = query.get('tar_type')
  if (tar !== null && tar !== 'GZIP') return paramError('tar_type', '须为GZIP', 'query')

  const orders: Order[] = []
  for (const outTradeNo of await ordersOfDay(kv, day)) {
    const order = await loadOrder(kv, outTradeNo)
    if (order) orders.push(order)
  }
  const rows = billRows(orders, day)
  if (rows.length === 0) return refuse(400, 'NO_STATEMENT_EXIST', '账单不存在')
  const csv = billText(rows)
  const token = randomString(32)
  const file: File = { csv, gzip: tar === 'GZIP' }
  await kv.put(fileKey(token), JSON.stringify(file), { expirationTtl: TTL_SECONDS })
  return {
    status: 200,
    body: {
      hash_type: 'SHA1',
      hash_value: await sha1Hex(new TextEncoder().encode(csv)),
      download_url: `${base}/v3/billdownload/file?token=${token}`,
    },
  }
}

/** The file behind a download_url (unsigned), or a refusal when the token is unknown or expired. */
export async function billFile(options: { kv: KVNamespace; query: URLSearchParams }): Promise<Response | WechatError> {
  const token = options.query.get('token') ?? ''
  const file = /^[0-9A-Za-z]{32}$/.test(token) ? await options.kv.get<File>(fileKey(token), 'json') : null
  if (!file) return refuse(400, 'INVALID_REQUEST', '账单下载链接无效或已过期,请重新申请账单')
  const plain = new Blob([file.csv])
  const body = file.gzip ? plain.stream().pipeThrough(new CompressionStream('gzip')) : plain.stream()
  return new Response(body, {
    headers: { 'Content-Type': file.gzip ? 'application/octet-stream' : 'text/plain; charset=utf-8' },
  })
}
