import type { EventSourceMessage } from 'eventsource-parser/stream'
import { IncrementalText } from './incremental-text'
import { first, num, obj, str, text, type Fields } from './read-fields'
import { malformed, parseJson, upstreamStreamError, type ChunkMapper, type PartSink } from './upstream-part'

/**
 * Native protocol (`/api/v1/services/aigc/text-generation/generation`, `event:result`) → parts.
 * `finish_reason` is the *string* "null" while streaming. Usage rides on every event and is
 * cumulative, so only the last one matters: it is kept as sent and read once, when the answer
 * finishes (or the stream ends).
 */
export class NativeChunkMapper implements ChunkMapper {
  private readonly text = new IncrementalText()
  private readonly reasoning = new IncrementalText()
  /** The last event's usage as DashScope wrote it: read into our shape only when passed on. */
  private usage: Fields | undefined

  private flushUsage(sink: PartSink): void {
    const u = this.usage
    this.usage = undefined
    if (!u) return
    const input = num(u.input_tokens) ?? 0
    const out = num(u.output_tokens) ?? 0
    sink.enqueue({ type: 'usage', usage: { input_tokens: input, output_tokens: out, total_tokens: num(u.total_tokens) ?? input + out } })
  }

  /** Text still held by the incremental/cumulative check goes out before the answer ends. */
  private flushText(sink: PartSink): void {
    const reasoning = this.reasoning.flush()
    if (reasoning) sink.enqueue({ type: 'reasoning', text: reasoning })
    const text = this.text.flush()
    if (text) sink.enqueue({ type: 'text', text })
  }

  end(sink: PartSink): void {
    this.flushText(sink)
    this.flushUsage(sink)
  }

  map(message: EventSourceMessage, sink: PartSink): void {
    const json = parseJson(message.data)
    if (message.event === 'error') {
      const err = json.ok ? obj(json.value) : undefined
      this.flushText(sink)
      return sink.enqueue(upstreamStreamError(str(err?.code), str(err?.message)))
    }
    const chunk = json.ok ? obj(json.value) : undefined
    if (!chunk) {
      this.flushText(sink)
      return sink.enqueue(malformed(json.ok ? 'an event of an unexpected shape' : 'an event that is not JSON'))
    }
    const output = obj(chunk.output)
    const choice = first(output?.choices)
    const message_ = obj(choice?.message)
    const reasoningDelta = this.reasoning.next(text(message_?.reasoning_content) ?? '')
    if (reasoningDelta) sink.enqueue({ type: 'reasoning', text: reasoningDelta })
    const textPiece = text(message_?.content) ?? str(output?.text) ?? ''
    if (textPiece) {
      // The answer has begun: reasoning still held goes out first, so it stays before the answer.
      const heldReasoning = this.reasoning.flush()
      if (heldReasoning) sink.enqueue({ type: 'reasoning', text: heldReasoning })
    }
    const textDelta = this.text.next(textPiece)
    if (textDelta) sink.enqueue({ type: 'text', text: textDelta })
    const u = obj(chunk.usage)
    if (u) this.usage = u
    const finish = str(choice?.finish_reason) ?? str(output?.finish_reason)
    if (finish && finish !== 'null') {
      this.flushText(sink)
      this.flushUsage(sink)
      sink.enqueue({ type: 'finish', reason: finish })
    }
  }
}
