import type { EventSourceMessage } from 'eventsource-parser/stream'
import type { Usage } from '../stream/events'
import { first, num, obj, str } from './read-fields'
import { malformed, parseJson, upstreamStreamError, type ChunkMapper, type PartSink } from './upstream-part'

/**
 * Native protocol (`/api/v1/services/aigc/text-generation/generation`, `event:result`) → parts.
 * `finish_reason` is the *string* "null" while streaming. Usage rides on every event and is
 * cumulative, so only the last one matters: it is passed on once, when the answer finishes (or the
 * stream ends).
 */
export class NativeChunkMapper implements ChunkMapper {
  private readonly text = new IncrementalText()
  private readonly reasoning = new IncrementalText()
  private usage: Usage | undefined

  private flushUsage(sink: PartSink): void {
    if (this.usage) sink.enqueue({ type: 'usage', usage: this.usage })
    this.usage = undefined
  }

  end(sink: PartSink): void {
    this.flushUsage(sink)
  }

  map(message: EventSourceMessage, sink: PartSink): void {
    const json = parseJson(message.data)
    if (message.event === 'error') {
      const err = json.ok ? obj(json.value) : undefined
      return sink.enqueue(upstreamStreamError(str(err?.code), str(err?.message)))
    }
    if (!json.ok) return sink.enqueue(malformed('an event that is not JSON'))
    const chunk = obj(json.value)
    if (!chunk) return sink.enqueue(malformed('an event of an unexpected shape'))
    const output = obj(chunk.output)
    const choice = first(output?.choices)
    const message_ = obj(choice?.message)
    const reasoningDelta = this.reasoning.next(str(message_?.reasoning_content) ?? '')
    if (reasoningDelta) sink.enqueue({ type: 'reasoning', text: reasoningDelta })
    const textDelta = this.text.next(str(message_?.content) ?? str(output?.text) ?? '')
    if (textDelta) sink.enqueue({ type: 'text', text: textDelta })
    const u = obj(chunk.usage)
    if (u) {
      const input = num(u.input_tokens) ?? 0
      const out = num(u.output_tokens) ?? 0
      this.usage = { input_tokens: input, output_tokens: out, total_tokens: num(u.total_tokens) ?? input + out }
    }
    const finish = str(choice?.finish_reason) ?? str(output?.finish_reason)
    if (finish && finish !== 'null') {
      this.flushUsage(sink)
      sink.enqueue({ type: 'finish', reason: finish })
    }
  }
}

/**
 * We always ask for `incremental_output: true`, but a model that ignores it repeats the whole text
 * so far in every event. The mode is decided once, from the first two non-empty pieces, and then
 * held: if the second starts with the first (and is longer), every piece is cumulative and only
 * its new tail is passed on. Only the text length is kept, never the answer.
 */
export class IncrementalText {
  private mode: 'unknown' | 'incremental' | 'cumulative' = 'unknown'
  private first = ''
  private seenLength = 0

  next(piece: string): string {
    if (!piece) return ''
    switch (this.mode) {
      case 'incremental':
        return piece
      case 'cumulative': {
        const delta = piece.length > this.seenLength ? piece.slice(this.seenLength) : ''
        this.seenLength = Math.max(this.seenLength, piece.length)
        return delta
      }
      case 'unknown':
        if (!this.first) {
          this.first = piece
          this.seenLength = piece.length
          return piece
        }
        if (piece.length > this.first.length && piece.startsWith(this.first)) {
          this.mode = 'cumulative'
          this.first = ''
          return this.next(piece)
        }
        this.mode = 'incremental'
        this.first = ''
        return piece
    }
  }
}
