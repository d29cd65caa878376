import type { ErrorCode } from '../errors'
import type { Usage } from '../stream/events'

/** What either DashScope protocol tells us, reduced to the few things the answer is made of. */
export type UpstreamPart =
  | { type: 'reasoning'; text: string }
  | { type: 'text'; text: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: string }
  | { type: 'error'; code: ErrorCode; message: string; retryable: boolean }
  /** Upstream has been quiet for a heartbeat interval: keep intermediaries from closing the stream. */
  | { type: 'ping' }

export type PartSink = { enqueue(part: UpstreamPart): void }

/** Reads one upstream SSE message into parts; `end` when the upstream body is over. */
export interface ChunkMapper {
  map(message: import('eventsource-parser').EventSourceMessage, sink: PartSink): void
  end(sink: PartSink): void
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

export function malformed(what: string): UpstreamPart {
  return { type: 'error', code: 'upstream_malformed', message: `DashScope sent ${what}`, retryable: true }
}

/** Errors DashScope reports mid-stream: throttling and server faults are worth a retry. */
export function upstreamStreamError(code: string | undefined, message: string | undefined): UpstreamPart {
  const retryable = !code || /^(Throttling|InternalError|ServiceUnavailable|RequestTimeOut|internal_error|rate_limit)/i.test(code)
  const text = [code, message].filter(Boolean).join(': ') || 'unknown error'
  return { type: 'error', code: 'upstream_error', message: `DashScope failed mid-stream (${text})`, retryable }
}
