import { createParser, type ParseError } from 'eventsource-parser'
import type { ChunkMapper, PartSink, UpstreamPart } from '../dashscope/upstream-part'
import { AnswerEvents, type AnswerEventsOptions, type ErrorPart } from './answer-events'
import type { StreamItem, Usage } from './events'

export type AnswerStreamOptions = AnswerEventsOptions & {
  mapper: ChunkMapper
  /** Largest upstream event buffered, in characters; a larger one is an upstream fault. */
  maxEventBytes: number
  encode: (item: StreamItem) => string
  /** Silence from upstream longer than this ends the answer with `upstream_timeout`; 0: never. */
  idleTimeoutMs: number
  /** Silence longer than this sends a keep-alive; 0: never. */
  heartbeatMs: number
  /** Why the upstream body failed, as the error the client sees. */
  describeFailure: (failure: unknown) => ErrorPart
  /** Called once when the client goes away, with the tokens DashScope reported so far. */
  onCancel?: (reason: unknown, usage: Usage | null) => void
  /**
   * Aborted when the client disconnects (the request's signal, `enable_request_signal`). The
   * runtime cancels a response body only when a write to the gone client fails — the first write
   * after a close usually still succeeds, so with a slow upstream that took two events (seconds).
   * The signal tells at once, whatever the upstream is doing.
   */
  clientSignal?: AbortSignal
  /** Stops the upstream request (the idle timeout fired). */
  abortUpstream: () => void
}

/**
 * The upstream body → the client's bytes, as one pull-driven stream: each read of the client
 * reads the upstream once, decodes it (TextDecoder, streaming), parses SSE (eventsource-parser,
 * bounded), maps each chunk (native or compatible mode), turns parts into our events and encodes
 * them. These are the small modules of dashscope/ and stream/; they are composed here rather than
 * piped through a stream each, because every JS stream hop costs workerd time and memory per
 * chunk (BENCHMARKS.md, P4/P5). Nothing reads ahead (highWaterMark 0), so backpressure holds.
 *
 * An upstream failure ends the answer after everything received so far (an error travelling down
 * a pipe chain would discard queued chunks). A cancel from the client stops the watchdog and
 * cancels the upstream reader, which aborts the fetch. Silence is watched by one timer, re-armed
 * only when it fires — never per event.
 */
export function answerStream(body: ReadableStream<Uint8Array>, opts: AnswerStreamOptions): ReadableStream<Uint8Array> {
  const upstream = body.getReader()
  const decoder = new TextDecoder()
  const events = new AnswerEvents(opts)
  const encoder = new TextEncoder()
  const idleMs = opts.idleTimeoutMs > 0 ? opts.idleTimeoutMs : Infinity
  const pingMs = opts.heartbeatMs > 0 ? opts.heartbeatMs : Infinity
  let lastPartAt = Date.now()
  let lastOutputAt = lastPartAt
  let timer: ReturnType<typeof setTimeout> | undefined
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let closed = false
  /** Chunks enqueued so far. */
  let chunks = 0

  // Events parsed from one upstream read arrived together: they leave as one chunk (one write to
  // the client instead of one per event). Events from the timer or the end go out at once.
  let batch: string | null = null
  const emit = (item: StreamItem) => {
    const text = opts.encode(item)
    if (!text || closed) return
    if (batch !== null) batch += text
    else enqueue(text)
  }
  const enqueue = (text: string) => {
    chunks++
    controller.enqueue(encoder.encode(text))
  }
  const flushBatch = () => {
    const out = batch
    batch = null
    if (out && !closed) enqueue(out)
  }
  /** Ends the client's stream after what is batched, and stops reading the upstream. */
  const close = () => {
    if (closed) return
    flushBatch()
    closed = true
    opts.clientSignal?.removeEventListener('abort', onClientAbort)
    controller.close()
    void upstream.cancel().catch(() => {})
  }
  const stopTimer = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  const finish = (error?: ErrorPart) => {
    stopTimer()
    // What the mapper still holds (text, the cumulative usage of native mode) comes before the
    // error, so the tokens spent are reported (and counted) however the answer ends.
    if (error && !events.ended) opts.mapper.end(sink)
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
      close()
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
      if (part.type === 'error' && !events.ended) opts.mapper.end(sink)
      if (events.push(part, emit)) return
      // An upstream error ended the answer: stop reading.
      stopTimer()
      close()
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
      close()
    },
  })
  const feed = (text: string) => {
    if (!text || events.ended) return
    lastPartAt = lastOutputAt = Date.now()
    batch = ''
    try {
      parser.feed(text)
    } finally {
      flushBatch()
    }
  }
  /** The upstream ended (cleanly, or with `failure`): everything received has been fed. */
  const end = async (failure: unknown) => {
    feed(decoder.decode())
    if (events.ended) return close()
    opts.mapper.end(sink)
    if (failure === undefined && events.endsAsync) {
      // Check, repair, run: the silence watchdog of the upstream is done; each step has its own.
      stopTimer()
      await events.endAsync(emit)
    } else {
      finish(failure === undefined ? undefined : opts.describeFailure(failure))
    }
    close()
  }

  /** The client went away (cancel or its signal): stop everything, once. */
  let cancelled = false
  const cancel = async (reason: unknown) => {
    if (cancelled) return
    cancelled = true
    closed = true
    stopTimer()
    opts.clientSignal?.removeEventListener('abort', onClientAbort)
    // Usage the mapper holds (native mode: cumulative on every event) is the tokens spent.
    let usage = events.usage
    if (!events.ended) opts.mapper.end({ enqueue: (part) => void (part.type === 'usage' && (usage = part.usage)) })
    opts.onCancel?.(reason, usage)
    await upstream.cancel(reason).catch(() => {})
  }
  const onClientAbort = () => {
    // Only a disconnect before the answer ended is a cancel; afterwards there is nothing to stop.
    if (!closed) void cancel(opts.clientSignal?.reason)
  }
  opts.clientSignal?.addEventListener('abort', onClientAbort, { once: true })

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        events.start(emit)
        arm()
      },
      // A pull must enqueue or close before it returns (the stream does not pull again by
      // itself): a read that completes no event — a partial line, half a UTF-8 character — is
      // followed by the next one.
      async pull() {
        const before = chunks
        while (!closed && chunks === before) {
          let read: ReadableStreamReadResult<Uint8Array>
          try {
            read = await upstream.read()
          } catch (err) {
            return end(err ?? new Error('upstream body failed'))
          }
          if (closed) return
          if (read.done) return end(undefined)
          feed(decoder.decode(read.value, { stream: true }))
          if (events.ended) close()
        }
      },
      cancel,
    },
    { highWaterMark: 0 },
  )
}
