import { ParseError } from 'eventsource-parser'
import type { UpstreamPart } from '../dashscope/upstream-part'

/** Why the upstream ended early, as the error the client sees. */
export function describeFailure(failure: unknown): Extract<UpstreamPart, { type: 'error' }> {
  if (failure instanceof ParseError && failure.type === 'max-buffer-size-exceeded') {
    return { type: 'error', code: 'upstream_malformed', message: 'DashScope sent an event larger than the allowed size', retryable: false }
  }
  return { type: 'error', code: 'upstream_disconnected', message: 'The connection to DashScope broke mid-answer', retryable: true }
}
