import type { EventSourceMessage } from 'eventsource-parser/stream'
import { first, num, obj, str, text } from './read-fields'
import { malformed, parseJson, upstreamStreamError, type ChunkMapper, type PartSink } from './upstream-part'

/** Compatible mode (`/compatible-mode/v1/chat/completions`, `data: {chunk}` … `data: [DONE]`) → parts. */
export class OpenAiChunkMapper implements ChunkMapper {
  end(): void {}

  map(message: EventSourceMessage, sink: PartSink): void {
    if (message.data === '[DONE]') return
    const json = parseJson(message.data)
    if (!json.ok) return sink.enqueue(malformed('a chunk that is not JSON'))
    const chunk = obj(json.value)
    if (!chunk) return sink.enqueue(malformed('a chunk of an unexpected shape'))
    const error = obj(chunk.error)
    if (error || message.event === 'error') {
      const code = error?.code ?? error?.type
      return sink.enqueue(upstreamStreamError(code == null ? undefined : String(code), str(error?.message)))
    }
    const choice = first(chunk.choices)
    const delta = obj(choice?.delta)
    const reasoning = text(delta?.reasoning_content)
    if (reasoning) sink.enqueue({ type: 'reasoning', text: reasoning })
    const content = text(delta?.content)
    if (content) sink.enqueue({ type: 'text', text: content })
    const finish = str(choice?.finish_reason)
    if (finish) sink.enqueue({ type: 'finish', reason: finish })
    const usage = obj(chunk.usage)
    if (usage) {
      const input = num(usage.prompt_tokens) ?? 0
      const out = num(usage.completion_tokens) ?? 0
      sink.enqueue({ type: 'usage', usage: { input_tokens: input, output_tokens: out, total_tokens: num(usage.total_tokens) ?? input + out } })
    }
  }
}
