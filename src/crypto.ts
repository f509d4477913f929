/**
 * @module
 * AES-256-ECB with PKCS#7 padding on WebCrypto alone, for WeChat Pay's refund notifications
 * (退款结果通知: req_info). WebCrypto has no ECB, so it is built from AES-CBC (platform notes §3):
 *  - decrypt: CBC with a zero IV yields `D(Cᵢ) ⊕ Cᵢ₋₁`; XOR each block with the ciphertext block
 *    before it to get `D(Cᵢ)`. WebCrypto insists on valid padding at the end, so one extra block
 *    `X = E(C_last ⊕ 0x10…)` is appended: it decrypts to a whole padding block, which WebCrypto
 *    strips. The message's own padding is then checked here, strictly.
 *  - encrypt: one CBC call per block with a zero IV, keeping the first block: `E(Pᵢ)`.
 */

const BLOCK = 16
const ZERO_IV = new Uint8Array(BLOCK)

/** Thrown when a ciphertext cannot be an AES-ECB/PKCS#7 message under the key; says which check failed. */
export class CipherError extends Error {
  override readonly name = 'CipherError'
}

/** Imports 32 raw bytes as an AES-256 key usable by {@link aesEcbDecrypt} and {@link aesEcbEncrypt}. */
export function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== 32) throw new CipherError('an AES-256 key is 32 bytes')
  return crypto.subtle.importKey('raw', raw, { name: 'AES-CBC' }, false, ['encrypt', 'decrypt'])
}

/**
 * AES-256-ECB decryption with PKCS#7 unpadding.
 * @throws {CipherError} when the length is not a positive multiple of 16 or the padding is not PKCS#7.
 */
export async function aesEcbDecrypt(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  if (data.byteLength === 0 || data.byteLength % BLOCK !== 0) {
    throw new CipherError('ciphertext length is not a positive multiple of 16 bytes')
  }
  const last = data.subarray(data.byteLength - BLOCK)
  // CBC-encrypting an empty message with iv = last gives E(last ⊕ 0x10…): a block that decrypts to padding.
  const tail = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: last }, key, new Uint8Array(0)))
  const extended = new Uint8Array(data.byteLength + BLOCK)
  extended.set(data)
  extended.set(tail.subarray(0, BLOCK), data.byteLength)
  let chained: Uint8Array
  try {
    chained = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: ZERO_IV }, key, extended))
  } catch {
    // Cannot happen with the appended block; refused like bad padding rather than escaping untyped.
    throw new CipherError('padding is not PKCS#7 (AES-CBC refused the extended ciphertext)')
  }
  if (chained.byteLength !== data.byteLength) throw new CipherError('unexpected AES-CBC output length')
  for (let i = BLOCK; i < chained.byteLength; i++) chained[i] = (chained[i] as number) ^ (data[i - BLOCK] as number)
  const pad = chained[chained.byteLength - 1] as number
  let bad = pad < 1 || pad > BLOCK ? 1 : 0
  // Every padding byte is checked, whatever the first mismatch (no early exit).
  for (let i = 1; i <= BLOCK; i++) {
    if (i <= pad && chained[chained.byteLength - i] !== pad) bad = 1
  }
  if (bad) throw new CipherError('padding is not PKCS#7')
  return chained.subarray(0, chained.byteLength - pad)
}

/** AES-256-ECB encryption with PKCS#7 padding (a whole block of 0x10 when the input is aligned). */
export async function aesEcbEncrypt(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  const pad = BLOCK - (data.byteLength % BLOCK)
  const padded = new Uint8Array(data.byteLength + pad)
  padded.set(data)
  padded.fill(pad, data.byteLength)
  const out = new Uint8Array(padded.byteLength)
  const blocks: Promise<void>[] = []
  for (let offset = 0; offset < padded.byteLength; offset += BLOCK) {
    const block = padded.subarray(offset, offset + BLOCK)
    blocks.push(
      crypto.subtle.encrypt({ name: 'AES-CBC', iv: ZERO_IV }, key, block).then((cipher) => {
        out.set(new Uint8Array(cipher, 0, BLOCK), offset)
      }),
    )
  }
  await Promise.all(blocks)
  return out
}

/** Strict base64 (RFC 4648 alphabet, `=` padding required, no white space) to bytes. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Bytes to base64. */
export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}
