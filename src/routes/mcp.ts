import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { executeRefusal } from '../answer/execute-refusal'
import { toAppError } from '../errors'
import { readAnswer } from '../mcp/read-answer'
import type { McpTools, RunOutcome, SchemaOutcome, SqlRunResponse, ToolError } from '../mcp/tools'
import { requireCaller } from '../middleware/auth'
import { renderSchema } from '../prompt/render-schema'
import { loadCallerSnapshot } from './caller-snapshot'

/** Serves a request with the whole app (its middleware, limits and log line), in process. */
export type ServeApp = (request: Request, c: Context<AppEnv>) => Promise<Response>

/** The MCP server's version, as `serverInfo` reports it. */
const VERSION = '1.0.0'

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP (stateless), for AI apps. Authenticated
 * like `/v1/ask` (an API key, or a JWT whose role then bounds every tool); its tools are thin: `ask` is `POST /v1/ask` and `run_sql` is `POST /v1/sql`,
 * served in process by the same app with the caller's own credentials — the same checks, limits
 * and log lines as over HTTP — and `describe_schema` is the schema the prompt is built from.
 */
export function mcpRoutes(serveApp: ServeApp): Hono<AppEnv> {
  const routes = new Hono<AppEnv>()
  // POST only: GET (a stream for server-initiated messages) and DELETE (ending a session) are
  // the app's 405 — a stateless server offers neither, as the protocol allows.
  routes.post('/mcp', requireCaller, async (c) => {
    const config = c.var.config
    // The SDK and this module's tools load on the first call only (src/mcp/mcp-server.ts).
    const { handleMcp } = await import('../mcp/mcp-server')
    return handleMcp(c.req.raw, toolsFor(c, serveApp), {
      maxQuestionChars: config.maxQuestionChars,
      maxHistoryTurns: config.maxHistoryTurns,
      maxRows: config.mcpMaxRows,
      maxBodyBytes: config.maxBodyBytes,
      executeAllowed: !executeRefusal(config.sql),
    }, VERSION)
  })
  return routes
}

function toolsFor(c: Context<AppEnv>, serveApp: ServeApp): McpTools {
  const config = c.var.config
  const call = (path: string, body: unknown, signal: AbortSignal) => {
    const headers = new Headers({ 'content-type': 'application/json' })
    // The caller's own credentials and address: the inner request is judged as theirs.
    for (const name of ['authorization', 'cf-connecting-ip']) {
      const value = c.req.header(name)
      if (value !== undefined) headers.set(name, value)
    }
    return serveApp(new Request(new URL(path, c.req.url), { method: 'POST', headers, body: JSON.stringify(body), signal }), c)
  }
  return {
    async ask(input, progress, signal) {
      const res = await call('/v1/ask', { ...input, ...(input.execute ? { summarize: true } : {}) }, signal)
      if (res.status !== 200 || !res.body) return { answer: '', error: await errorOf(res) }
      return readAnswer(res.body, config.mcpMaxRows, progress, signal)
    },
    async describeSchema({ tables }): Promise<SchemaOutcome> {
      try {
        // What the caller's role may read, as its prompt would show it.
        const snapshot = await loadCallerSnapshot(c)
        const wanted = tables?.length ? new Set(tables.map((t) => t.toLowerCase())) : undefined
        const chosen = wanted ? snapshot.tables.filter((t) => wanted.has(t.name.toLowerCase()) || wanted.has(`${t.schema}.${t.name}`.toLowerCase())) : snapshot.tables
        return {
          ok: true,
          schema_version: snapshot.version,
          ddl: chosen.length ? renderSchema(snapshot, chosen) : `-- no table named ${tables!.join(', ')}`,
          tables: chosen.map((t) => ({ schema: t.schema, name: t.name, kind: t.kind, comment: t.comment, columns: t.columns.map((col) => ({ name: col.name, type: col.type, comment: col.comment })) })),
        }
      } catch (err) {
        const e = toAppError(err)
        return { ok: false, error: { code: e.code, message: e.message, retryable: e.retryable } }
      }
    },
    async runSql({ sql }, signal): Promise<RunOutcome> {
      const execute = config.sql.allowExecute
      const res = await call('/v1/sql', { sql, execute }, signal)
      if (res.status !== 200) return { ok: false, error: await errorOf(res) }
      return { ok: true, result: (await res.json()) as SqlRunResponse }
    },
  }
}

/** The API's error body (`{error: {code, message}}`) as the tool's error. */
async function errorOf(res: Response): Promise<ToolError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null
  return {
    code: body?.error?.code ?? 'internal_error',
    message: body?.error?.message ?? `HTTP ${res.status}`,
    ...(res.status === 429 || res.status >= 502 ? { retryable: true } : {}),
  }
}
