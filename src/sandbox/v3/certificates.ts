/**
 * @module
 * `GET /v3/certificates` (reference §4.5): the platform certificate, encrypted AEAD_AES_256_GCM with
 * the APIv3 key (associated_data `certificate`), for services in certificate mode. The sandbox's
 * merchant holds both a platform certificate and a public key (like a merchant that switched to the
 * public key, §1.2), so this answers in either mode; a merchant issued only a public key would get
 * `404 RESOURCE_NOT_EXISTS` from WeChat.
 */

import { aesGcmEncrypt } from '../../wechat/v3/crypto'
import { randomString } from '../ids'
import { paramError } from './fields'
import type { WechatError } from './protocol'
import type { Settings } from './settings'
import { rfc3339 } from './time'
import type { Answer } from './transactions'

/** Answers the certificate list; `algorithm_type` may only be RSA. */
export async function certificates(settings: Settings, query: URLSearchParams): Promise<Answer | WechatError> {
  const algorithm = query.get('algorithm_type')
  if (algorithm !== null && algorithm !== 'RSA') return paramError('algorithm_type', '须为RSA', 'query')
  const { certificate, certificatePem, apiV3Key } = settings
  const nonce = randomString(12)
  const ciphertext = await aesGcmEncrypt(apiV3Key, nonce, 'certificate', certificatePem)
  return {
    status: 200,
    body: {
      data: [
        {
          serial_no: certificate.serial,
          effective_time: rfc3339(certificate.notBefore),
          expire_time: rfc3339(certificate.notAfter),
          encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce, associated_data: 'certificate', ciphertext },
        },
      ],
    },
  }
}
