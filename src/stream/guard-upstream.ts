import { ParseError } from 'eventsource-parser/stream'
import type { UpstreamPart } from '../dashscope/upstream-part'

export type GuardOptions = {
  /** Silence from upstream longer than this ends the answer with `upstream_timeout`. */
  idleTimeoutMs: number
  /** Silence longer than this (but shorter than the idle timeout) yields a `ping` part. */
  heartbeatMs: number
  /** Why the upstream body ended early, if it did (see `endOnError`). */
  failure?: () => unknown
  /** Called once when the reader of the guarded stream goes away (client disconnect). */
  onCancel?: (reason: unknown) => void
}

/**
 * Wraps the parsed upstream so that every way it can fail becomes one final `error` part and a
 * normal close: a reset connection, a parser overflow, or plain silence. Without this, a failing
 * upstream would error the whole pipe and the client would see a truncated stream with no reason.
 * Pull-based, so backpressure holds, and cancel travels back up to the upstream fetch.
 */
export function guardUpstream(source: ReadableStream<UpstreamPart>, opts: GuardOptions): ReadableStream<UpstreamPart> {
  const reader = source.getReader()
  let pending: Promise<ReadableStreamReadResult<UpstreamPart>> | undefined
  let cancelled = false
  let lastPartAt = Date.now()
  let lastOutputAt = lastPartAt
  // 0 disables a timer; setTimeout(Infinity) would fire at once, so no timer is made then.
  const idleMs = opts.idleTimeoutMs > 0 ? opts.idleTimeoutMs : Infinity
  const pingMs = opts.heartbeatMs > 0 ? opts.heartbeatMs : Infinity

  return new ReadableStream<UpstreamPart>(
    {
      async pull(controller) {
        pending ??= reader.read()
        const now = Date.now()
        const wait = Math.max(0, Math.min(idleMs - (now - lastPartAt), pingMs - (now - lastOutputAt)))
        let timer: ReturnType<typeof setTimeout> | null = null
        const tick = Number.isFinite(wait) ? new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), wait))) : null
        let outcome: { result: ReadableStreamReadResult<UpstreamPart> } | { failure: unknown } | 'tick'
        try {
          const read = pending.then(
            (result) => ({ result }),
            (failure: unknown) => ({ failure }),
          )
          outcome = await (tick ? Promise.race([read, tick]) : read)
        } finally {
          if (timer !== null) clearTimeout(timer)
        }
        if (cancelled) return
        if (outcome === 'tick') {
          if (Date.now() - lastPartAt >= idleMs) {
            controller.enqueue({ type: 'error', code: 'upstream_timeout', message: `DashScope sent nothing for ${opts.idleTimeoutMs} ms`, retryable: true })
            controller.close()
            reader.cancel('idle timeout').catch(() => {})
            return
          }
          lastOutputAt = Date.now()
          controller.enqueue({ type: 'ping' })
          return
        }
        pending = undefined
        if ('failure' in outcome) {
          controller.enqueue(describeFailure(outcome.failure))
          controller.close()
          reader.cancel().catch(() => {})
          return
        }
        if (outcome.result.done) {
          const failure = opts.failure?.()
          if (failure !== undefined) controller.enqueue(describeFailure(failure))
          return controller.close()
        }
        lastPartAt = lastOutputAt = Date.now()
        controller.enqueue(outcome.result.value)
      },
      async cancel(reason) {
        cancelled = true
        opts.onCancel?.(reason)
        await reader.cancel(reason).catch(() => {})
      },
    },
    // No read-ahead: pull only when the client side asks, so a slow client slows the upstream.
    { highWaterMark: 0 },
  )
}

/**
 * The upstream body, ending cleanly where it would error. An error travels forward through a pipe
 * chain and discards every chunk still queued between stages — text already received would be
 * lost. Ending instead lets all of it through; the guard then reports why it ended.
 */
export function endOnError(body: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; failure: () => unknown } {
  const reader = body.getReader()
  let failure: unknown
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        } catch (err) {
          failure = err ?? new Error('upstream body failed')
          controller.close()
        }
      },
      cancel: (reason) => reader.cancel(reason).catch(() => {}),
    },
    { highWaterMark: 0 },
  )
  return { stream, failure: () => failure }
}

function describeFailure(failure: unknown): UpstreamPart {
  if (failure instanceof ParseError && failure.type === 'max-buffer-size-exceeded') {
    return { type: 'error', code: 'upstream_malformed', message: 'DashScope sent an event larger than the allowed size', retryable: false }
  }
  return { type: 'error', code: 'upstream_disconnected', message: 'The connection to DashScope broke mid-answer', retryable: true }
}
