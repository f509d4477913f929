/**
 * @module
 * AEAD_AES_256_GCM under the APIv3 key (v3 reference §5.2: notification resources, platform
 * certificates) and SHA-1 (the bill file's hash). The key is imported once per isolate, cached by a
 * hash of its text. Re-exported by crypto.ts.
 */
import { fromBase64, toBase64 } from '../../crypto'
import { cachedKey } from './key-cache'

const encoder = new TextEncoder()

/** AES-GCM input as WeChat sends it: a 12-character nonce, associated data (maybe ""), base64 ciphertext‖tag. */
export type Sealed = { nonce: string; associated_data: string; ciphertext: string }

/** Raised when AEAD_AES_256_GCM refuses: wrong key, nonce or associated data, or a changed byte (the tag fails). */
export class CipherError extends Error {
  override readonly name = 'CipherError'
}

function aesKey(apiV3Key: string): Promise<CryptoKey> {
  return cachedKey('aes', apiV3Key, () => {
    const raw = encoder.encode(apiV3Key)
    // The APIv3 key is 32 characters used as its bytes (v3 reference §2, §5.2): AES-256, nothing else.
    if (raw.byteLength !== 32) return Promise.reject(new CipherError('the APIv3 key is not 32 bytes'))
    return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  })
}

/**
 * AEAD_AES_256_GCM decryption (RFC 5116; v3 reference §5.2): the base64 ciphertext ends in the 16-byte tag.
 * @throws {CipherError} for anything that does not authenticate under this key, nonce and associated data.
 */
export async function aesGcmDecrypt(apiV3Key: string, sealed: Sealed): Promise<Uint8Array> {
  const data = fromBase64(sealed.ciphertext)
  if (data === undefined || data.byteLength < 16) throw new CipherError('ciphertext is not base64 of ciphertext‖tag')
  const key = await aesKey(apiV3Key)
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: encoder.encode(sealed.nonce),
        additionalData: encoder.encode(sealed.associated_data),
        tagLength: 128,
      },
      key,
      data,
    )
    return new Uint8Array(plain)
  } catch {
    throw new CipherError('AES-GCM authentication failed')
  }
}

/** AEAD_AES_256_GCM encryption, as WeChat seals a notification resource or a certificate (for stand-ins). */
export async function aesGcmEncrypt(apiV3Key: string, nonce: string, associatedData: string, plain: string) {
  const key = await aesKey(apiV3Key)
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: encoder.encode(nonce), additionalData: encoder.encode(associatedData), tagLength: 128 },
    key,
    encoder.encode(plain),
  )
  return toBase64(new Uint8Array(sealed))
}

/** Lower-case hex SHA-1 (the bill file's hash_value, v3 reference §6.12). */
export async function sha1Hex(bytes: Uint8Array): Promise<string> {
  let out = ''
  for (const byte of new Uint8Array(await crypto.subtle.digest('SHA-1', bytes)))
    out += byte.toString(16).padStart(2, '0')
  return out
}
