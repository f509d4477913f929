/**
 * @module
 * Reads a request body once, as UTF-8 text (and its bytes, which v3 signatures cover), refusing it past `maxBytes` without reading the rest:
 * the declared Content-Length is checked first, the bytes actually received second.
 */

export type RawBody = { ok: true; text: string; bytes: Uint8Array } | { ok: false; reason: 'too_large' | 'not_utf8' }

export async function readRawBody(request: Request, maxBytes: number): Promise<RawBody> {
  if (Number(request.headers.get('content-length')) > maxBytes) return { ok: false, reason: 'too_large' }
  if (!request.body) return { ok: true, text: '', bytes: new Uint8Array() }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      return { ok: false, reason: 'too_large' }
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), bytes }
  } catch {
    return { ok: false, reason: 'not_utf8' }
  }
}
