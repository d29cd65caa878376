import { createParser, type ParseError } from 'eventsource-parser'
import type { ChunkMapper, PartSink, UpstreamPart } from '../dashscope/upstream-part'
import { AnswerEvents, type AnswerEventsOptions, type ErrorPart } from './answer-events'
import type { StreamItem } from './events'

export type AnswerStreamOptions = AnswerEventsOptions & {
  mapper: ChunkMapper
  /** Largest upstream event buffered, in characters; a larger one is an upstream fault. */
  maxEventBytes: number
  encode: (item: StreamItem) => string
  /** Silence from upstream longer than this ends the answer with `upstream_timeout`; 0: never. */
  idleTimeoutMs: number
  /** Silence longer than this sends a keep-alive; 0: never. */
  heartbeatMs: number
  /** Why the upstream body ended early, if it did. */
  failure: () => unknown
  describeFailure: (failure: unknown) => ErrorPart
  /** Stops the upstream request (the idle timeout fired). */
  abortUpstream: () => void
}

/**
 * Upstream text → the client's bytes, in one stage: parse SSE (eventsource-parser, bounded), map
 * each chunk (native or compatible mode), turn parts into our events, encode them. These are the
 * small modules of dashscope/ and stream/; they are composed here rather than piped through a
 * TransformStream each, because every stream hop costs workerd tens of microseconds per event
 * (BENCHMARKS.md, P3/P4).
 *
 * Silence is watched by one timer, re-armed only when it fires — never per event.
 */
export class AnswerStream extends TransformStream<string, Uint8Array> {
  /** Stops the watchdog; called when the client goes away. */
  readonly dispose: () => void

  constructor(opts: AnswerStreamOptions) {
    const events = new AnswerEvents(opts)
    const encoder = new TextEncoder()
    const idleMs = opts.idleTimeoutMs > 0 ? opts.idleTimeoutMs : Infinity
    const pingMs = opts.heartbeatMs > 0 ? opts.heartbeatMs : Infinity
    let lastPartAt = Date.now()
    let lastOutputAt = lastPartAt
    let timer: ReturnType<typeof setTimeout> | undefined
    let controller!: TransformStreamDefaultController<Uint8Array>

    const emit = (item: StreamItem) => {
      const text = opts.encode(item)
      if (text) controller.enqueue(encoder.encode(text))
    }
    const stopTimer = () => {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }
    const finish = (error?: ErrorPart) => {
      stopTimer()
      events.end(emit, error)
    }
    const arm = () => {
      const now = Date.now()
      const wait = Math.min(idleMs - (now - lastPartAt), pingMs - (now - lastOutputAt))
      if (!Number.isFinite(wait)) return
      timer = setTimeout(watch, Math.max(0, wait))
    }
    const watch = () => {
      timer = undefined
      if (events.ended) return
      const now = Date.now()
      if (now - lastPartAt >= idleMs) {
        finish({ type: 'error', code: 'upstream_timeout', message: `DashScope sent nothing for ${opts.idleTimeoutMs} ms`, retryable: true })
        controller.terminate()
        opts.abortUpstream()
        return
      }
      if (now - lastOutputAt >= pingMs) {
        lastOutputAt = now
        emit({ event: 'ping' })
      }
      arm()
    }
    const sink: PartSink = {
      enqueue(part: UpstreamPart) {
        if (events.push(part, emit)) return
        // An upstream error ended the answer: stop reading (terminate cancels back to the fetch).
        stopTimer()
        controller.terminate()
      },
    }

    const parser = createParser({
      maxBufferSize: opts.maxEventBytes,
      onEvent: (message) => {
        if (!events.ended) opts.mapper.map(message, sink)
      },
      onError: (error: ParseError) => {
        // Other parse errors are lines that are no SSE field: ignored, as EventSource does.
        if (error.type !== 'max-buffer-size-exceeded' || events.ended) return
        finish(opts.describeFailure(error))
        controller.terminate()
      },
    })

    super({
      start(c) {
        controller = c
        events.start(emit)
        arm()
      },
      transform(text) {
        if (events.ended) return
        lastPartAt = lastOutputAt = Date.now()
        parser.feed(text)
      },
      flush() {
        if (events.ended) return
        opts.mapper.end(sink)
        const failure = opts.failure()
        if (failure === undefined && events.endsAsync) {
          // Check, repair, run: the silence watchdog of the upstream is done; each step has its own.
          stopTimer()
          return events.endAsync(emit)
        }
        finish(failure === undefined ? undefined : opts.describeFailure(failure))
      },
    })
    this.dispose = stopTimer
  }
}
