import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { Protocol } from '../config'
import { NativeChunkStream } from '../dashscope/map-native-chunks'
import { OpenAiChunkStream } from '../dashscope/map-openai-chunks'
import { AnswerEventStream, type AnswerEventsOptions } from './answer-events'
import { LegacyTextEncoderStream, SseEncoderStream } from './encode-sse'
import { endOnError, guardUpstream, type GuardOptions } from './guard-upstream'

export type PipelineOptions = AnswerEventsOptions &
  GuardOptions & {
    protocol: Protocol
    /** Largest upstream event we buffer, in characters; a larger one is an upstream fault. */
    maxEventBytes: number
    format: 'sse' | 'legacy-text'
  }

/**
 * The heart of the service: upstream bytes → text → SSE messages → parts → guarded parts → our
 * events → SSE (or legacy text) → bytes. Every stage is a small TransformStream; nothing collects
 * the answer, so each upstream event reaches the client as soon as it is parsed, and a client that
 * goes away cancels the chain back to the upstream fetch.
 */
export function pipeAnswer(upstreamBody: ReadableStream<Uint8Array>, opts: PipelineOptions): ReadableStream<Uint8Array> {
  const body = endOnError(upstreamBody)
  const parts = body.stream
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: opts.maxEventBytes }))
    .pipeThrough(opts.protocol === 'native' ? new NativeChunkStream() : new OpenAiChunkStream())
  return guardUpstream(parts, { ...opts, failure: body.failure })
    .pipeThrough(new AnswerEventStream(opts))
    .pipeThrough(opts.format === 'sse' ? new SseEncoderStream() : new LegacyTextEncoderStream())
    .pipeThrough(new TextEncoderStream())
}
