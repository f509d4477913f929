/**
 * @module
 * The daily trade bill in v3 (v3 reference §6.12): `GET /v3/bill/tradebill` names a download_url
 * and the SHA-1 of the uncompressed file; the file comes from a signed GET whose reply WeChat does
 * not sign. It is gunzipped when its first bytes are gzip's (whatever the headers say, §11.6) and
 * streamed on; the stream errors at its end, before it closes, when the SHA-1 does not match.
 */
import { fail } from '../../errors'
import type { BillReply, BillRequest } from '../client'
import { replyError } from './errors'
import type { Http } from './http'

/** The bill as a byte stream of its CSV, or WeChat's word that there is none for that day (the v2 client's shape). */
export type BillStreamReply = BillReply

/** Downloads the bill of `bill_date` (yyyyMMdd); `bases` are the only origins the download may go to. */
export async function downloadBill(http: Http, request: BillRequest, bases: string[]): Promise<BillStreamReply> {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(request.bill_date)
  if (!m) throw fail('params', 'bill_date must be yyyyMMdd')
  const query = `bill_date=${m[1]}-${m[2]}-${m[3]}&bill_type=${request.bill_type}&tar_type=GZIP`
  const reply = await http.send({ method: 'GET', target: `/v3/bill/tradebill?${query}` })
  if (reply.status !== 200) {
    const error = replyError(reply.status, reply.text, 'order', 'tradebill')
    // 400 NO_STATEMENT_EXIST: no trade that day, so no bill (§6.12).
    if (error.failure.kind === 'wechat' && error.failure.errCode === 'NO_STATEMENT_EXIST')
      return { kind: 'none', message: error.message }
    throw error
  }
  let info: { hash_type?: unknown; hash_value?: unknown; download_url?: unknown }
  try {
    info = JSON.parse(reply.text)
  } catch {
    throw fail('upstream', 'tradebill did not answer JSON')
  }
  const { hash_type, hash_value, download_url } = info
  if (hash_type !== 'SHA1' || typeof hash_value !== 'string' || !/^[0-9a-fA-F]{40}$/.test(hash_value))
    throw fail('upstream', 'tradebill answered no SHA1 hash_value')
  if (typeof download_url !== 'string' || !URL.canParse(download_url))
    throw fail('upstream', 'tradebill answered no download_url')
  // The signed download goes only to WeChat's own API hosts: a signature is not handed to anyone else.
  const url = new URL(download_url)
  const base = bases.find((b) => new URL(b).origin === url.origin && url.pathname.startsWith(new URL(b).pathname))
  if (!base) throw fail('upstream', 'tradebill answered a download_url outside the API domains')
  const target = `${url.pathname.slice(new URL(base).pathname.replace(/\/$/, '').length)}${url.search}`
  const file = await http.send({ method: 'GET', target, verify: 'none', bases: [base] })
  if (file.status !== 200) throw replyError(file.status, file.text, 'order', 'billdownload')
  const gzip = file.body[0] === 0x1f && file.body[1] === 0x8b
  let body = new Blob([file.body]).stream()
  if (gzip) body = body.pipeThrough(new DecompressionStream('gzip'))
  return { kind: 'bill', body: body.pipeThrough(checkedSha1(hash_value.toLowerCase())) }
}

/** Passes bytes through and, before closing, errors the stream unless their SHA-1 is `expected`. */
function checkedSha1(expected: string): TransformStream<Uint8Array, Uint8Array> {
  const digest = new crypto.DigestStream('SHA-1')
  const writer = digest.getWriter()
  return new TransformStream({
    async transform(chunk, controller) {
      await writer.write(chunk)
      controller.enqueue(chunk)
    },
    async flush(controller) {
      await writer.close()
      let hex = ''
      for (const byte of new Uint8Array(await digest.digest)) hex += byte.toString(16).padStart(2, '0')
      if (hex !== expected)
        controller.error(fail('upstream', 'the bill file does not match the SHA-1 tradebill stated'))
    },
  })
}
