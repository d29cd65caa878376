import { ParseError } from 'eventsource-parser/stream'
import type { UpstreamPart } from '../dashscope/upstream-part'

/**
 * The upstream body, ending cleanly where it would error. An error travels forward through a pipe
 * chain and discards every chunk still queued between stages — text already received would be
 * lost. Ending instead lets all of it through; `failure()` then says why it ended. A cancel from
 * downstream (the client went away) reaches `onCancel` and the upstream reader, which aborts the
 * fetch.
 */
export function endOnError(
  body: ReadableStream<Uint8Array>,
  onCancel?: (reason: unknown) => void,
): { stream: ReadableStream<Uint8Array>; failure: () => unknown } {
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
      async cancel(reason) {
        onCancel?.(reason)
        await reader.cancel(reason).catch(() => {})
      },
    },
    // No read-ahead: read upstream only as the client side asks, so backpressure holds.
    { highWaterMark: 0 },
  )
  return { stream, failure: () => failure }
}

/** Why the upstream ended early, as the error the client sees. */
export function describeFailure(failure: unknown): Extract<UpstreamPart, { type: 'error' }> {
  if (failure instanceof ParseError && failure.type === 'max-buffer-size-exceeded') {
    return { type: 'error', code: 'upstream_malformed', message: 'DashScope sent an event larger than the allowed size', retryable: false }
  }
  return { type: 'error', code: 'upstream_disconnected', message: 'The connection to DashScope broke mid-answer', retryable: true }
}
