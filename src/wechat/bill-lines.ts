/**
 * @module
 * A byte stream as numbered lines of text, holding at most one line: UTF-8 is decoded as it arrives
 * (TextDecoderStream joins a character split across chunks and drops a byte-order mark), lines end
 * at `\n`, and a `\r` before it is removed. A line longer than `maxLength` is reported, not held, and
 * skipped to its end, so no input (a bill without line ends, a wrong decompression) makes the
 * reader hold more than `maxLength` characters plus the chunk in hand.
 */
import { BillError } from './bill-format'

/** A line of the body, or the number of one too long to hold. */
export type Line = { line: number; text: string } | { line: number; tooLong: true }

export type LineOptions = {
  /** The longest line held, in characters (a bill line is well under 2,000). */
  maxLength?: number
  /** Told how many characters are held between chunks; lets a test prove that is never more than a line. */
  onPending?: (chars: number) => void
}

export const MAX_LINE_LENGTH = 16_384

/**
 * @example for await (const l of linesOf(response.body)) if ('text' in l) console.log(l.line, l.text)
 * @throws {BillError} when the stream itself fails (a broken download or gzip), naming the last line read.
 */
export async function* linesOf(body: ReadableStream<Uint8Array>, options: LineOptions = {}): AsyncGenerator<Line> {
  const { maxLength = MAX_LINE_LENGTH, onPending } = options
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let n = 0
  let pending = ''
  // After a line proved too long: drop text until its end.
  let skipping = false
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<string>
      try {
        chunk = await reader.read()
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err)
        throw new BillError(`the bill could not be read after line ${n}: ${reason}`, { cause: err })
      }
      if (chunk.done) break
      const text = chunk.value
      let from = 0
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', from)) {
        n += 1
        if (!skipping) yield finished(n, pending + text.slice(from, end), maxLength)
        pending = ''
        skipping = false
        from = end + 1
      }
      if (!skipping) {
        pending += text.slice(from)
        if (pending.length > maxLength) {
          yield { line: n + 1, tooLong: true }
          pending = ''
          skipping = true
        }
      }
      onPending?.(pending.length)
    }
    if (pending !== '') yield finished(n + 1, pending, maxLength)
  } finally {
    // Stops the download when the reader stops early (a thrown consumer, a break).
    reader.cancel().catch(() => undefined)
  }
}

function finished(line: number, text: string, maxLength: number): Line {
  const body = text.endsWith('\r') ? text.slice(0, -1) : text
  return body.length > maxLength ? { line, tooLong: true } : { line, text: body }
}
