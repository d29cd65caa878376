import { createParser, type EventSourceMessage } from 'eventsource-parser'

const encoder = new TextEncoder()

export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/** A body that delivers exactly these chunks, like a network that splits writes anywhere. */
export function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else controller.close()
    },
  })
}

export function splitAt(data: Uint8Array, offsets: number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let start = 0
  for (const offset of [...offsets].sort((a, b) => a - b)) {
    out.push(data.slice(start, offset))
    start = offset
  }
  out.push(data.slice(start))
  return out
}

export function splitEvery(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < data.length; i += size) out.push(data.slice(i, i + size))
  return out
}

export type ParsedEvent = { event: string; data: any }

/** Reads a whole SSE response body into events (comments dropped), with a bounded wait. */
export async function readEvents(body: ReadableStream<Uint8Array>): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e: EventSourceMessage) => events.push({ event: e.event ?? 'message', data: JSON.parse(e.data) }) })
  const decoder = new TextDecoder()
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
  return events
}

export async function readText(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text()
}

/** Timing fields vary run to run; everything else must be identical. */
export function withoutTimings(events: ParsedEvent[]): ParsedEvent[] {
  return events.map((e) => (e.event === 'done' ? { event: e.event, data: { ...e.data, ttft_ms: 'x', total_ms: 'x' } } : e))
}

/** Compatible-mode capture (one chunk JSON per line, `#` comment first) → wire bytes. */
export function openAiWire(capture: string, lineEnding = '\n'): string {
  const lines = capture.split('\n').filter((l) => l.trim() && !l.startsWith('#'))
  const nl = lineEnding
  return lines.map((l) => `data: ${l}${nl}${nl}`).join('') + `data: [DONE]${nl}${nl}`
}
