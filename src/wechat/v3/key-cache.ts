/**
 * @module
 * Imported keys, once per isolate: importing costs more than using, and clients are made per
 * request. Cached by a SHA-256 of the key's text, so the text itself is never a map key.
 */
import { toBase64 } from '../../crypto'

const encoder = new TextEncoder()

const keys = new Map<string, Promise<CryptoKey>>()
// The text last asked for per kind and its key: every request passes the same configured text, so
// the digest is skipped (the text is the caller's own, held here, not a map key).
const recent = new Map<string, { text: string; key: Promise<CryptoKey> }>()

/** The key `load` imports for `text`, imported once; a failed import is not remembered. */
export async function cachedKey(kind: string, text: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  const last = recent.get(kind)
  if (last?.text === text) return last.key
  const id = `${kind}:${toBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))}`
  let key = keys.get(id)
  if (key === undefined) {
    key = load()
    // A key that fails to import is not remembered: the next call reports the same error.
    key.catch(() => {
      keys.delete(id)
      if (recent.get(kind)?.key === key) recent.delete(kind)
    })
    if (keys.size >= 32) keys.clear()
    keys.set(id, key)
  }
  recent.set(kind, { text, key })
  return key
}
