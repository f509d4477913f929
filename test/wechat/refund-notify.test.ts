/**
 * @module
 * req_info decryption (refunds reference §3.2–§3.5) against known answers made by another
 * implementation: the reference's vector and vectors from Node's `createCipheriv('aes-256-ecb')`
 * (make-refund-vectors.mjs). A wrong key, a truncated or altered ciphertext, and plaintexts that
 * are not a refund notice must all be refused with a typed error.
 */
import { describe, expect, it } from 'vitest'
import { aesEcbDecrypt, aesEcbEncrypt, aesKey, fromBase64, toBase64 } from '../../src/crypto'
import { decryptRefundNotice, RefundNoticeError } from '../../src/wechat/refund-notify'
import { decode } from '../../src/wechat/xml'
import { SUCCESS_FIELDS, VECTORS } from './refund-vectors'

async function refused(reqInfo: string, key: string): Promise<RefundNoticeError> {
  const error = await decryptRefundNotice(reqInfo, key).then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(RefundNoticeError)
  return error as RefundNoticeError
}

describe('decryptRefundNotice', () => {
  it('decrypts the reference test vector (§3.5) to its published fields', async () => {
    const fields = await decryptRefundNotice(VECTORS.reference.reqInfo, VECTORS.reference.key)
    expect({ ...fields }).toEqual({
      out_refund_no: 'RF20261129001',
      out_trade_no: 'ORD20261129001',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_fee: '30',
      refund_id: '50300000012026112900000000001',
      refund_recv_accout: '支付用户零钱',
      refund_request_source: 'API',
      refund_status: 'SUCCESS',
      settlement_refund_fee: '30',
      settlement_total_fee: '101',
      success_time: '2026-11-29 10:15:02',
      total_fee: '101',
      transaction_id: '4200000001202611290000000001',
    })
  })

  it.each(['success', 'closed'] as const)(
    'decrypts the Node-made %s vector to the fields it was made from',
    async (name) => {
      const { key, reqInfo, plain } = VECTORS[name]
      expect({ ...(await decryptRefundNotice(reqInfo, key)) }).toEqual({ ...decode(plain, { root: 'root' }) })
    },
  )

  it('reads the Node vector’s values exactly', async () => {
    const fields = await decryptRefundNotice(VECTORS.success.reqInfo, VECTORS.success.key)
    expect({ ...fields }).toEqual(SUCCESS_FIELDS)
  })

  it.each([
    ['another merchant’s key', VECTORS.success.reqInfo, VECTORS.otherKey.key],
    ['the reference vector under the test key', VECTORS.reference.reqInfo, VECTORS.success.key],
    ['the MD5 hex key used as the API key', VECTORS.reference.reqInfo, 'ee0874f511145df02490356a2ca5b480'],
  ])('refuses %s', async (_, reqInfo, key) => {
    const error = await refused(reqInfo, key)
    expect(['padding', 'utf8', 'xml', 'fields']).toContain(error.reason)
    expect(error.message).not.toContain(key)
  })

  it('never accepts a wrong key, even when its padding happens to look valid (1 in ~256)', async () => {
    // 600 distinct wrong keys: a padding check alone would let about two through.
    const outcomes = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        refused(VECTORS.success.reqInfo, `wrong-key-${String(i).padStart(4, '0')}-0123456789abcdefghij`),
      ),
    )
    const reasons = new Set(outcomes.map((error) => error.reason))
    expect(reasons.has('padding')).toBe(true)
    expect([...reasons].every((reason) => ['padding', 'utf8', 'xml', 'fields'].includes(reason))).toBe(true)
  })

  const bytes = () => fromBase64(VECTORS.success.reqInfo) as Uint8Array

  it.each([
    ['truncated to a non-multiple of 16 bytes', toBase64(bytes().subarray(0, 100)), 'length'],
    ['empty', '', 'length'],
    ['not base64', 'this is not base64!', 'base64'],
    [
      'base64 with white space',
      `${VECTORS.success.reqInfo.slice(0, 40)}\n${VECTORS.success.reqInfo.slice(40)}`,
      'base64',
    ],
    ['base64url', VECTORS.success.reqInfo.replaceAll('+', '-').replaceAll('/', '_'), 'base64'],
    ['padded with zero bytes', VECTORS.zeroPadding.reqInfo, 'padding'],
    ['padded inconsistently (03 03 04)', VECTORS.mixedPadding.reqInfo, 'padding'],
    ['plain text, not XML', VECTORS.notXml.reqInfo, 'xml'],
    ['an <xml> document, not <root>', VECTORS.xmlRoot.reqInfo, 'xml'],
    ['not UTF-8', VECTORS.notUtf8.reqInfo, 'utf8'],
    ['a <root> without refund_id', VECTORS.missingRefundId.reqInfo, 'fields'],
  ])('refuses a req_info %s', async (_, reqInfo, reason) => {
    expect((await refused(reqInfo, VECTORS.success.key)).reason).toBe(reason)
  })

  it.each([
    ['its last block dropped', (b: Uint8Array) => b.subarray(0, b.length - 16)],
    ['its first block dropped', (b: Uint8Array) => b.subarray(16)],
    [
      'one bit flipped in its last block',
      (b: Uint8Array) => {
        b[b.length - 1] = (b[b.length - 1] as number) ^ 1
        return b
      },
    ],
  ])('refuses a ciphertext with %s', async (_, alter) => {
    const error = await refused(toBase64(alter(bytes())), VECTORS.success.key)
    expect(['padding', 'utf8', 'xml', 'fields']).toContain(error.reason)
  })

  it('refuses an oversized req_info before decoding it', async () => {
    expect((await refused('A'.repeat(8 * 1024 + 4), VECTORS.success.key)).reason).toBe('length')
  })
})

describe('AES-256-ECB', () => {
  const key = () => aesKey(new TextEncoder().encode('0123456789abcdef0123456789abcdef'))

  it('round-trips every length from 0 to 48 bytes, padding a whole block when aligned', async () => {
    const k = await key()
    for (let length = 0; length <= 48; length++) {
      const plain = crypto.getRandomValues(new Uint8Array(length))
      const cipher = await aesEcbEncrypt(k, plain)
      expect(cipher.byteLength).toBe((Math.floor(length / 16) + 1) * 16)
      expect(await aesEcbDecrypt(k, cipher)).toEqual(plain)
    }
  })

  it('encrypts to the Node-made ciphertext (same key, same plaintext)', async () => {
    const digest = await crypto.subtle.digest('MD5', new TextEncoder().encode(VECTORS.success.key))
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
    const k = await aesKey(new TextEncoder().encode(hex))
    for (const name of ['success', 'aligned'] as const) {
      const cipher = await aesEcbEncrypt(k, new TextEncoder().encode(VECTORS[name].plain))
      expect(toBase64(cipher)).toBe(VECTORS[name].reqInfo)
    }
  })

  it('encrypts identical blocks identically (ECB, no chaining)', async () => {
    const cipher = await aesEcbEncrypt(await key(), new Uint8Array(32).fill(7))
    expect(cipher.subarray(0, 16)).toEqual(cipher.subarray(16, 32))
  })

  it('refuses a key that is not 32 bytes', () => {
    expect(() => aesKey(new Uint8Array(16))).toThrow('32 bytes')
  })

  it('decrypts 1 KB in well under a millisecond on average', async () => {
    const k = await key()
    const cipher = await aesEcbEncrypt(k, crypto.getRandomValues(new Uint8Array(1024)))
    const rounds = 200
    const start = performance.now()
    for (let i = 0; i < rounds; i++) await aesEcbDecrypt(k, cipher)
    const perCall = (performance.now() - start) / rounds
    console.log(JSON.stringify({ event: 'bench', what: 'aesEcbDecrypt 1 KB', ms: perCall }))
    expect(perCall).toBeLessThan(5)
  })
})
