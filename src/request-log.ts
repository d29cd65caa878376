/**
 * One JSON line per request. Holds only what may be logged: never the key, never the question's
 * text unless LOG_QUESTIONS is on. A streamed request writes its line when the stream ends.
 */
export type RequestLogFields = {
  request_id: string
  method: string
  path: string
  status?: number
  question_chars?: number
  question?: string
  model?: string
  protocol?: string
  upstream_status?: number
  ttft_ms?: number | null
  total_ms?: number
  input_tokens?: number | null
  output_tokens?: number | null
  finish_reason?: string
  error_code?: string | null
  sql_ok?: boolean | null
}

export class RequestLog {
  private written = false
  /** Set when a stream takes over: the line is then written by the stream's end. */
  streaming = false
  readonly fields: RequestLogFields

  constructor(
    fields: RequestLogFields,
    private readonly startedAt: number,
    private readonly write: (line: string) => void = (line) => console.log(line),
  ) {
    this.fields = fields
  }

  set(fields: Partial<RequestLogFields>): void {
    Object.assign(this.fields, fields)
  }

  flush(fields: Partial<RequestLogFields> = {}): void {
    if (this.written) return
    this.written = true
    this.write(JSON.stringify({ ...this.fields, total_ms: Date.now() - this.startedAt, ...fields }))
  }
}
