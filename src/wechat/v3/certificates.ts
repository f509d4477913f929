/**
 * @module
 * `GET /v3/certificates` (platform-certificate mode, v3 reference §4.5): each certificate comes
 * AES-256-GCM-sealed under the APIv3 key (associated data `certificate`), so its tag proves it came
 * from WeChat. The reply itself is then verified with the certificates it carries, the way the
 * official SDKs' auto-updating verifiers do: a reply signed by none of them is refused.
 */
import { fail } from '../../errors'
import { aesGcmDecrypt, CipherError, importPublicKey, KeyError } from './crypto'
import type { Http } from './http'
import type { PlatformCertificate } from './keys'
import { verifySigned } from './sign'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Downloads, decrypts and verifies the platform certificates. @throws {PayError} `upstream` for anything WeChat would not have sent. */
export async function downloadCertificates(
  http: Http,
  apiV3Key: string,
  now: () => number,
): Promise<PlatformCertificate[]> {
  const reply = await http.send({ method: 'GET', target: '/v3/certificates', verify: 'deferred' })
  if (reply.status !== 200)
    throw fail(
      'upstream',
      `/v3/certificates answered HTTP ${reply.status} (public-key merchants have none: set WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY)`,
    )
  let data: unknown
  try {
    data = (JSON.parse(reply.text) as { data?: unknown }).data
  } catch {
    throw fail('upstream', '/v3/certificates did not answer JSON')
  }
  if (!Array.isArray(data) || data.length === 0) throw fail('upstream', '/v3/certificates answered no certificate')
  const certificates: PlatformCertificate[] = []
  for (const entry of data as Record<string, unknown>[]) {
    const sealed = (entry?.encrypt_certificate ?? {}) as Record<string, unknown>
    const { serial_no, effective_time, expire_time } = entry ?? {}
    if (
      typeof serial_no !== 'string' ||
      !/^[0-9A-Fa-f]{1,64}$/.test(serial_no) ||
      typeof effective_time !== 'string' ||
      typeof expire_time !== 'string' ||
      typeof sealed.ciphertext !== 'string' ||
      typeof sealed.nonce !== 'string'
    )
      throw fail('upstream', '/v3/certificates answered a malformed certificate entry')
    let pem: string
    try {
      pem = utf8.decode(
        await aesGcmDecrypt(apiV3Key, {
          nonce: sealed.nonce,
          associated_data: typeof sealed.associated_data === 'string' ? sealed.associated_data : '',
          ciphertext: sealed.ciphertext,
        }),
      )
      await importPublicKey(pem)
    } catch (err) {
      if (err instanceof CipherError)
        throw fail('upstream', `platform certificate ${serial_no} does not decrypt under WXPAY_APIV3_KEY`)
      if (err instanceof KeyError || err instanceof TypeError)
        throw fail('upstream', `platform certificate ${serial_no} is not a certificate`)
      throw err
    }
    certificates.push({ serial_no: serial_no.toUpperCase(), effective_time, expire_time, pem })
  }
  const byserial = new Map(certificates.map((c) => [c.serial_no, c.pem]))
  const verdict = await verifySigned(reply.headers, reply.body, {
    keys: {
      keyFor: async (serial) =>
        byserial.has(serial.toUpperCase()) ? importPublicKey(byserial.get(serial.toUpperCase()) as string) : undefined,
    },
    now: now(),
  })
  if (!verdict.ok)
    throw fail('upstream', `the reply to /v3/certificates failed signature verification (${verdict.reason})`)
  return certificates
}
