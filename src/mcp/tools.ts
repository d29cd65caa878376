import type { AnswerEvent, ResultData, SqlData, UnanswerableData, Usage } from '../stream/events'

/**
 * What the MCP server offers, as plain functions: the route (src/routes/mcp.ts) implements them
 * with the service's own pipeline, and the MCP module (src/mcp/mcp-server.ts, loaded only when
 * /mcp is called) turns them into tools. Nothing here imports the MCP SDK.
 */
export type McpTools = {
  /** The `/v1/ask` pipeline; `progress` gets a line at each step of the answer. */
  ask(input: AskToolInput, progress: (message: string) => void, signal: AbortSignal): Promise<AskOutcome>
  /** The caller's view of the schema (what the prompt may show), optionally only some tables. */
  describeSchema(input: { tables?: string[] | undefined }): Promise<SchemaOutcome>
  /** `POST /v1/sql`: the guard of the model's SQL, on SQL the caller gives. */
  runSql(input: { sql: string }, signal: AbortSignal): Promise<RunOutcome>
}

export type AskToolInput = {
  question: string
  history?: { role: 'user' | 'assistant'; content: string }[] | undefined
  execute?: boolean | undefined
}

/** A refusal before any answer (HTTP status ≠ 200) or an `error` event mid-answer. */
export type ToolError = { code: string; message: string; retryable?: boolean }

/** One answer of `/v1/ask`, read to its end: what an assistant needs, rows bounded. */
export type AskOutcome = {
  request_id?: string
  model?: string
  schema_version?: string
  tables?: string[]
  /** The model's reading of the question and its reasoning text, as streamed. */
  answer: string
  sql?: SqlData
  unanswerable?: UnanswerableData
  columns?: { name: string; type: string }[]
  rows?: unknown[][]
  /** Rows the run returned; `rows` holds at most MCP_MAX_ROWS of them. */
  result?: ResultData
  summary?: string
  summary_skipped?: string
  usage?: Usage
  error?: ToolError
}

export type SchemaOutcome =
  | {
      ok: true
      schema_version: string
      /** The tables as CREATE statements with their comments, as the model sees them. */
      ddl: string
      tables: { schema: string; name: string; kind: string; comment?: string | null | undefined; columns: { name: string; type: string; comment?: string | null | undefined }[] }[]
    }
  | { ok: false; error: ToolError }

export type RunOutcome = { ok: true; result: SqlRunResponse } | { ok: false; error: ToolError }

/** The body of `POST /v1/sql`'s 200 answer (docs/API.md). */
export type SqlRunResponse = {
  sql: string
  check: SqlData
  result?: ResultData
  columns?: { name: string; type: string }[]
  rows?: unknown[][]
}

export type { AnswerEvent }
