import type { EventSourceMessage } from 'eventsource-parser/stream'
import { z } from 'zod'
import { malformed, parseJson, upstreamStreamError, type UpstreamPart } from './upstream-part'

const OpenAiChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish(), reasoning_content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z
    .object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish(), total_tokens: z.number().nullish() })
    .nullish(),
  error: z.object({ code: z.unknown().nullish(), message: z.string().nullish(), type: z.string().nullish() }).nullish(),
})

/** Compatible mode (`/compatible-mode/v1/chat/completions`, `data: {chunk}` … `data: [DONE]`) → parts. */
export class OpenAiChunkStream extends TransformStream<EventSourceMessage, UpstreamPart> {
  constructor() {
    super({
      transform(message, controller) {
        if (message.data === '[DONE]') return
        const json = parseJson(message.data)
        if (!json.ok) return controller.enqueue(malformed('a chunk that is not JSON'))
        const parsed = OpenAiChunkSchema.safeParse(json.value)
        if (!parsed.success) return controller.enqueue(malformed('a chunk of an unexpected shape'))
        const { choices, usage, error } = parsed.data
        if (error || message.event === 'error') {
          const code = error?.code ?? error?.type
          return controller.enqueue(upstreamStreamError(code == null ? undefined : String(code), error?.message ?? undefined))
        }
        const choice = choices?.[0]
        if (choice?.delta?.reasoning_content) controller.enqueue({ type: 'reasoning', text: choice.delta.reasoning_content })
        if (choice?.delta?.content) controller.enqueue({ type: 'text', text: choice.delta.content })
        if (choice?.finish_reason) controller.enqueue({ type: 'finish', reason: choice.finish_reason })
        if (usage) {
          const input = usage.prompt_tokens ?? 0
          const out = usage.completion_tokens ?? 0
          controller.enqueue({ type: 'usage', usage: { input_tokens: input, output_tokens: out, total_tokens: usage.total_tokens ?? input + out } })
        }
      },
    })
  }
}
