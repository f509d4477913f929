/**
 * @module
 * The v3 primitives against the published vectors (v3 reference §9.3: the test key of merchant
 * 1900007291 and its four signatures, the Go SDK's certificate) and this project's vectors (§9.4),
 * inside workerd.
 */
import { describe, expect, it } from 'vitest'
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  CipherError,
  importPrivateKey,
  importPublicKey,
  KeyError,
  pemToDer,
  rsaSign,
  rsaVerify,
  sha1Hex,
  spkiOfCertificate,
} from '../../../src/wechat/v3/crypto'
import { replyMessage, requestMessage } from '../../../src/wechat/v3/sign'
import * as V from './vectors'
import { flipBit } from './vectors'

const encoder = new TextEncoder()
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('request signatures with the published test key of merchant 1900007291', () => {
  const a5Body = V.DOC_BODY.replace('"mchid":"1900007291"', '"mchid":"1230000109"')
  it.each([
    [
      'A1 POST /v3/pay/transactions/jsapi',
      requestMessage('POST', '/v3/pay/transactions/jsapi', V.DOC_TS, V.DOC_NONCE, V.DOC_BODY),
      V.A1,
    ],
    [
      'A2 GET with an empty body',
      requestMessage('GET', '/v3/refund/domestic/refunds/123123123123', V.DOC_TS, V.DOC_NONCE, ''),
      V.A2,
    ],
    ['A3 JSAPI paySign', `wx2421b1c4370ec43b\n${V.DOC_TS}\n${V.DOC_NONCE}\nprepay_id=${V.PREPAY}\n`, V.A3],
    [
      'A5 the page variant with mchid 1230000109',
      requestMessage('POST', '/v3/pay/transactions/jsapi', V.DOC_TS, V.DOC_NONCE, a5Body),
      V.A5,
    ],
  ])('%s gives the published signature', async (_, message, expected) => {
    expect(await rsaSign(await importPrivateKey(V.DOC_TEST_KEY), message)).toBe(expected)
  })

  it('imports the same key as PKCS#1 (BEGIN RSA PRIVATE KEY) by wrapping it into PKCS#8 (A4)', async () => {
    const message = requestMessage('POST', '/v3/pay/transactions/jsapi', V.DOC_TS, V.DOC_NONCE, V.DOC_BODY)
    expect(await rsaSign(await importPrivateKey(V.DOC_PKCS1_KEY), message)).toBe(V.A1)
  })

  it('refuses a public key, a certificate or garbage as the private key, naming no key material', async () => {
    for (const pem of [
      V.MERCHANT_PUB,
      V.GO_CERT,
      'not a key',
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
    ]) {
      const error = await importPrivateKey(pem).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(KeyError)
      expect(String((error as Error).message)).not.toContain('MII')
    }
  })
})

describe('this project vectors (merchant key pair, "WeChat Pay" key pair)', () => {
  it.each([
    ['B1 POST jsapi', requestMessage('POST', '/v3/pay/transactions/jsapi', V.TS, V.NONCE, V.B1_BODY), V.B1],
    [
      'B2 GET with a query',
      requestMessage('GET', `/v3/pay/transactions/out-trade-no/ORD20260101000001?mchid=${V.MCHID}`, V.TS, V.NONCE, ''),
      V.B2,
    ],
    ['B3 paySign', `${V.APPID}\n${V.TS}\n${V.NONCE}\nprepay_id=${V.PREPAY}\n`, V.B3],
    ['B4 APP sign', `${V.APPID}\n${V.TS}\n${V.NONCE}\n${V.PREPAY}\n`, V.B4],
  ])('%s', async (_, message, expected) => {
    const signature = await rsaSign(await importPrivateKey(V.MERCHANT_KEY), message)
    expect(signature).toBe(expected)
    expect(await rsaVerify(await importPublicKey(V.MERCHANT_PUB), message, signature)).toBe(true)
  })

  it('verifies B5 (a notification) and B7 (a 204 reply) over the raw body bytes, and nothing else', async () => {
    const key = await importPublicKey(V.WXPAY_PUB)
    const b5 = replyMessage(V.N_TS, V.N_NONCE, encoder.encode(V.B5_BODY))
    expect(await rsaVerify(key, b5, V.B5_SIG)).toBe(true)
    expect(
      await rsaVerify(key, replyMessage('1767225700', 'e5b3a1f0c9d8e7f6a5b4c3d2e1f0a9b8', new Uint8Array()), V.B7),
    ).toBe(true)
    // Wrong key, a changed byte, a probe signature, not base64: all false, none thrown.
    expect(await rsaVerify(await importPublicKey(V.MERCHANT_PUB), b5, V.B5_SIG)).toBe(false)
    expect(await rsaVerify(key, replyMessage(V.N_TS, V.N_NONCE, encoder.encode(`${V.B5_BODY} `)), V.B5_SIG)).toBe(false)
    expect(await rsaVerify(key, b5, `WECHATPAY/SIGNTEST/${V.B5_SIG.slice(19)}`)).toBe(false)
    expect(await rsaVerify(key, b5, '%%%')).toBe(false)
  })

  it('A6: the doc reply sample verifies with the key third-party suites use', async () => {
    const message = replyMessage('1722850421', 'd824f2e086d3c1df967785d13fcd22ef', encoder.encode(V.A6_BODY))
    expect(await rsaVerify(await importPublicKey(V.PUB_wXNI), message, V.A6_SIG)).toBe(true)
  })
})

describe('platform certificates (A7)', () => {
  it("takes the SubjectPublicKeyInfo out of the Go SDK's certificate and verifies its signature", async () => {
    const key = await importPublicKey(V.GO_CERT)
    expect(await rsaVerify(key, 'source', V.GO_SIG)).toBe(true)
    expect(await rsaVerify(key, 'wrong source', V.GO_SIG)).toBe(false)
    const spki = spkiOfCertificate(pemToDer(V.GO_CERT).der)
    expect(spki[0]).toBe(0x30)
  })

  it('refuses truncated or non-certificate DER with a KeyError', () => {
    const der = pemToDer(V.GO_CERT).der
    expect(() => spkiOfCertificate(der.slice(0, 100))).toThrow(KeyError)
    expect(() => spkiOfCertificate(pemToDer(V.MERCHANT_PUB).der)).toThrow(KeyError)
    expect(() => spkiOfCertificate(new Uint8Array([0x30, 0x84, 1, 2, 3, 4]))).toThrow(KeyError)
  })
})

describe('AEAD_AES_256_GCM', () => {
  const b5 = { nonce: V.B5_NONCE, associated_data: V.B5_AAD, ciphertext: V.B5_CT }

  it('decrypts B5 and B6 and encrypts B5 back to the same ciphertext', async () => {
    expect(text(await aesGcmDecrypt(V.APIV3_KEY, b5))).toBe(V.B5_PLAIN)
    const b6 = { nonce: 'a1b2c3d4e5f6', associated_data: 'refund', ciphertext: V.B6_CT }
    expect(text(await aesGcmDecrypt(V.APIV3_KEY, b6))).toBe(V.B6_PLAIN)
    expect(await aesGcmEncrypt(V.APIV3_KEY, V.B5_NONCE, V.B5_AAD, V.B5_PLAIN)).toBe(V.B5_CT)
  })

  it.each([
    ['another APIv3 key', 'TestAPIv3Key0123456789abcdefABCE', b5],
    ['other associated data', V.APIV3_KEY, { ...b5, associated_data: 'refund' }],
    ['another nonce', V.APIV3_KEY, { ...b5, nonce: 'fdasflkja485' }],
    ['a flipped ciphertext bit', V.APIV3_KEY, { ...b5, ciphertext: flipBit(V.B5_CT) }],
    ['a cut-off tag', V.APIV3_KEY, { ...b5, ciphertext: V.B5_CT.slice(0, 8) }],
    ['a key that is not 32 bytes', 'testAPIv3Key0000', b5],
  ])('refuses %s', async (_, key, sealed) => {
    await expect(aesGcmDecrypt(key, sealed)).rejects.toBeInstanceOf(CipherError)
  })
})

it('hashes with SHA-1 in lower-case hex', async () => {
  expect(await sha1Hex(encoder.encode('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d')
})
