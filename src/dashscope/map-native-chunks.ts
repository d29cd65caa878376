import type { EventSourceMessage } from 'eventsource-parser/stream'
import { z } from 'zod'
import { malformed, parseJson, upstreamStreamError, type UpstreamPart } from './upstream-part'

// Minimal and tolerant: only what we read, everything nullish (DashScope adds fields freely).
const NativeChunkSchema = z.object({
  output: z
    .object({
      text: z.string().nullish(),
      finish_reason: z.string().nullish(),
      choices: z
        .array(
          z.object({
            message: z.object({ content: z.string().nullish(), reasoning_content: z.string().nullish() }).nullish(),
            finish_reason: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
  usage: z
    .object({ input_tokens: z.number().nullish(), output_tokens: z.number().nullish(), total_tokens: z.number().nullish() })
    .nullish(),
})

const NativeErrorSchema = z.object({ code: z.string().nullish(), message: z.string().nullish() })

/**
 * Native protocol (`/api/v1/services/aigc/text-generation/generation`, `event:result`) → parts.
 * `finish_reason` is the *string* "null" while streaming; usage is cumulative on every event.
 */
export class NativeChunkStream extends TransformStream<EventSourceMessage, UpstreamPart> {
  constructor() {
    const text = new IncrementalText()
    const reasoning = new IncrementalText()
    super({
      transform(message, controller) {
        const json = parseJson(message.data)
        if (message.event === 'error') {
          const err = json.ok ? NativeErrorSchema.safeParse(json.value) : undefined
          controller.enqueue(upstreamStreamError(err?.data?.code ?? undefined, err?.data?.message ?? undefined))
          return
        }
        if (!json.ok) return controller.enqueue(malformed('an event that is not JSON'))
        const parsed = NativeChunkSchema.safeParse(json.value)
        if (!parsed.success) return controller.enqueue(malformed('an event of an unexpected shape'))
        const { output, usage } = parsed.data
        const choice = output?.choices?.[0]
        const reasoningDelta = reasoning.next(choice?.message?.reasoning_content ?? '')
        if (reasoningDelta) controller.enqueue({ type: 'reasoning', text: reasoningDelta })
        const textDelta = text.next(choice?.message?.content ?? output?.text ?? '')
        if (textDelta) controller.enqueue({ type: 'text', text: textDelta })
        if (usage) {
          const input = usage.input_tokens ?? 0
          const out = usage.output_tokens ?? 0
          controller.enqueue({ type: 'usage', usage: { input_tokens: input, output_tokens: out, total_tokens: usage.total_tokens ?? input + out } })
        }
        const finish = choice?.finish_reason ?? output?.finish_reason
        if (finish && finish !== 'null') controller.enqueue({ type: 'finish', reason: finish })
      },
    })
  }
}

/**
 * We always ask for `incremental_output: true`, but a model that ignores it repeats the whole text
 * so far in every event. The mode is decided once, from the first two non-empty pieces, and then
 * held: if the second starts with the first (and is longer), every piece is cumulative and only
 * its new tail is passed on. Only the text length and a short tail are kept, never the answer.
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
