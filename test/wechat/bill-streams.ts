/**
 * Bill bodies for tests: text cut into byte chunks of any size (so a line end, a CRLF or a
 * three-byte CJK character falls across chunks), a generated bill pulled one chunk at a time, and
 * the entries of a read bill collected.
 */
import { type BillEntry, type ReadBillOptions, readBill } from '../../src/wechat/bill'

/** `text` as UTF-8 in chunks of `size` bytes. */
export function chunked(text: string | Uint8Array, size = 64 * 1024): ReadableStream<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text
  let at = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + size))
      at += size
    },
  })
}

/** Every entry of the bill `body` (text is cut into chunks of `size` bytes). */
export async function entriesOf(
  body: string | ReadableStream<Uint8Array>,
  size?: number,
  options?: ReadBillOptions,
): Promise<BillEntry[]> {
  const entries: BillEntry[] = []
  for await (const entry of readBill(typeof body === 'string' ? chunked(body, size) : body, options)) {
    entries.push(entry)
  }
  return entries
}

/**
 * A bill of `lines()` made as it is read: each pull makes the next few lines and hands them on in
 * chunks of `size` bytes. `made()` says how many bytes were made so far.
 */
export function generated(lines: () => Iterator<string>, size: number) {
  const source = lines()
  const encoder = new TextEncoder()
  let made = 0
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        let text = ''
        for (let i = 0; i < 16; i++) {
          const next = source.next()
          if (next.done) break
          text += next.value
        }
        if (!text) return controller.close()
        const bytes = encoder.encode(text)
        made += bytes.length
        for (let at = 0; at < bytes.length; at += size) controller.enqueue(bytes.subarray(at, at + size))
      },
    },
    { highWaterMark: 0 },
  )
  return { body, made: () => made }
}
