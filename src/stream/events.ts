/** The events a client receives on `POST /v1/ask`, in the order docs/API.md gives. */
export type AnswerEvent =
  | { event: 'meta'; data: { request_id: string; model: string; schema_version: string; tables: string[] } }
  | { event: 'reasoning'; data: { text: string } }
  | { event: 'delta'; data: { text: string } }
  | { event: 'sql'; data: { sql: string | null; ok: boolean; error?: string } }
  | { event: 'usage'; data: Usage }
  | { event: 'error'; data: { code: string; message: string; retryable: boolean } }
  | { event: 'done'; data: DoneData }

export type Usage = { input_tokens: number; output_tokens: number; total_tokens: number }
export type DoneData = { finish_reason: string; ttft_ms: number | null; total_ms: number }
export type AnswerEventName = AnswerEvent['event']

/** What flows to the encoders: the events, plus a keep-alive that SSE writes as a comment. */
export type StreamItem = AnswerEvent | { event: 'ping' }
