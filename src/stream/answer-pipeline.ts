import type { Protocol } from '../config'
import { NativeChunkMapper } from '../dashscope/map-native-chunks'
import { OpenAiChunkMapper } from '../dashscope/map-openai-chunks'
import type { AnswerEventsOptions, Emit } from './answer-events'
import type { Usage } from './events'
import { answerStream } from './answer-stream'
import { encodeLegacyText, encodeSse } from './encode-sse'
import { describeFailure } from './upstream-body'

export type PipelineOptions = AnswerEventsOptions & {
  protocol: Protocol
  /** Largest upstream event we buffer, in characters; a larger one is an upstream fault. */
  maxEventBytes: number
  format: 'sse' | 'legacy-text'
  idleTimeoutMs: number
  heartbeatMs: number
  /** Called once when the client goes away, with the tokens reported so far. */
  onCancel?: (reason: unknown, usage: Usage | null) => void
  /** Stops the upstream request (idle timeout). */
  abortUpstream?: () => void
  /** Aborted when the client disconnects (see answerStream). */
  clientSignal?: AbortSignal
  /** A repair attempt inside another answer: its events go to that answer's `emit`. */
  innerEmit?: Emit
  /** Sees each event as it is encoded (the answer cache's recorder); never holds it back. */
  observe?: (item: Parameters<Emit>[0]) => void
}

/**
 * The heart of the service: upstream bytes → text → SSE messages (eventsource-parser, bounded) →
 * our events, encoded → the response, in one pull-driven stream (answerStream). Nothing collects
 * the answer: each upstream event reaches the client as soon as it is parsed, and a client that
 * goes away cancels back to the upstream fetch.
 */
export function pipeAnswer(upstreamBody: ReadableStream<Uint8Array>, opts: PipelineOptions): ReadableStream<Uint8Array> {
  return answerStream(upstreamBody, {
    ...opts,
    mapper: opts.protocol === 'native' ? new NativeChunkMapper() : new OpenAiChunkMapper(),
    encode: observed(opts.innerEmit ? forwardTo(opts.innerEmit) : opts.format === 'sse' ? encodeSse : encodeLegacyText, opts.observe),
    describeFailure,
    abortUpstream: () => opts.abortUpstream?.(),
  })
}

function observed(encode: (item: Parameters<Emit>[0]) => string, observe: PipelineOptions['observe']): (item: Parameters<Emit>[0]) => string {
  if (!observe) return encode
  return (item) => {
    observe(item)
    return encode(item)
  }
}

/** The inner answer writes nothing itself: each of its events goes to the outer answer. */
function forwardTo(emit: Emit) {
  return (item: Parameters<Emit>[0]): string => {
    emit(item)
    return ''
  }
}
