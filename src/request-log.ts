/**
 * One JSON line per request. Holds only what may be logged: never the key, never the question's
 * text unless LOG_QUESTIONS is on. A streamed request writes its line when the stream ends.
 * For an answer it is also the audit record (docs/SECURITY.md, "Audit"): who asked (`caller`: the
 * API key's hash or the token's subject), as which database role, the SQL's hash, the check's
 * verdict, the relations its plan reads and the rows it returned — never a token or other claims.
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
  /** `key:<hash>`, `sub:<the JWT's sub>`, `jwt` (a token without sub) or `anonymous`. */
  caller?: string
  /** On the admin routes: who (the admin JWT's `sub`, or `admin-token`). */
  admin?: string
  /** `admin_change` on an admin request that may change something (any method but GET): the audit line. */
  audit?: 'admin_change'
  /** The Postgres role a JWT caller's SQL ran as; null for the service's own role. */
  role?: string | null
  /** sha-256 of the final SQL (hex, 16 digits): the same SQL has the same hash in every line. */
  sql_hash?: string | null
  /** The approved example that answered verified (no model call). */
  verified?: string
  /** The request whose answer was replayed from the answer cache (no model call). */
  cached_from?: string
  /** Postgres's check of the final SQL: passed, refused (by Postgres or the plan guard) or unavailable (database unreachable). */
  sql_check?: 'passed' | 'refused' | 'unavailable'
  /** The SQLSTATE of a refusal by Postgres (42501: a privilege the role lacks), `plan_guard` for the guard's. */
  sql_refusal?: string
  /** The relations (`schema.table`) in the checked plan. */
  relations?: string[]
  /** Rows sent, when the SQL was run. */
  rows?: number | null
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
