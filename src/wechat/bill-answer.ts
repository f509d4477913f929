/**
 * @module
 * downloadbill's answer told apart by its first bytes, never by its headers (refunds reference
 * §4.2): gzip (`1f 8b`, asked for with tar_type=GZIP) is decompressed as it streams; then a `<`
 * after any byte-order mark and white space is an XML (or HTML) error answer, read whole up to a
 * bound; anything else is the bill, handed on still streaming and unread past its first bytes.
 */

/** The bill as a stream, or the text of an answer that is not one. */
export type BillAnswer = { status: number; body: ReadableStream<Uint8Array> } | { status: number; text: string }

/** WeChat's XML errors are a few hundred bytes; an error page is not read past this. */
const MAX_ERROR_BYTES = 64 * 1024
/** How far a bill may start with white space before it is taken for a bill all the same. */
const MAX_LEADING_SPACE = 1024

/**
 * @example const answer = await openBillAnswer(response); if ('body' in answer) for await (const e of readBill(answer.body)) …
 */
export async function openBillAnswer(response: Response): Promise<BillAnswer> {
  const { status } = response
  if (!response.body) return { status, text: '' }
  const raw = await peek(response.body, (head) => head.length >= 2)
  const gzip = raw.head[0] === 0x1f && raw.head[1] === 0x8b
  const plain = gzip ? raw.stream.pipeThrough(new DecompressionStream('gzip')) : raw.stream
  const start = await peek(plain, (head) => firstByte(head) !== undefined || head.length > MAX_LEADING_SPACE)
  if (firstByte(start.head) !== 0x3c) return { status, body: start.stream }
  return { status, text: await boundedText(start.stream, MAX_ERROR_BYTES) }
}

/** The first byte after a UTF-8 byte-order mark and white space, if `head` reaches it. */
function firstByte(head: Uint8Array): number | undefined {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0
  while (i < head.length && [0x20, 0x09, 0x0a, 0x0d].includes(head[i] as number)) i += 1
  return head[i]
}

/** Reads until `enough` of the head is seen; the stream returned replays it, then reads on. */
async function peek(
  stream: ReadableStream<Uint8Array>,
  enough: (head: Uint8Array) => boolean,
): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let head: Uint8Array = new Uint8Array(0)
  while (!enough(head)) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    head = concat(head, value)
  }
  const replay = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = chunks.shift()
        if (next) return controller.enqueue(next)
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    // Pulled only when read: the body is never read ahead of its reader.
    { highWaterMark: 0 },
  )
  return { head, stream: replay }
}

async function boundedText(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const reader = stream.getReader()
  let bytes: Uint8Array = new Uint8Array(0)
  while (bytes.length <= max) {
    const { done, value } = await reader.read()
    if (done) break
    bytes = concat(bytes, value)
  }
  await reader.cancel().catch(() => undefined)
  return new TextDecoder().decode(bytes.subarray(0, max))
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
