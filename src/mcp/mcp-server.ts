// The MCP server (Streamable HTTP, stateless) on the official TypeScript SDK. This module and the
// SDK (with the full zod it needs for tool schemas) are loaded only when /mcp is first called:
// imported at start-up they cost every cold start ~70 ms in workerd; behind `import()` esbuild
// wraps them so nothing runs until then (BENCHMARKS.md, P7 and "MCP").
import { createMcpHandler, McpServer, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server'
import * as z from 'zod'
import { databaseContent, escapeControls, escapeDeep, UNTRUSTED_NOTE } from './clean-output'
import type { AskOutcome, McpTools, RunOutcome, SchemaOutcome, ToolError } from './tools'

export type McpLimits = {
  maxQuestionChars: number
  maxHistoryTurns: number
  /** Rows an assistant gets back from `ask` or `run_sql` (MCP_MAX_ROWS). */
  maxRows: number
  /** MAX_BODY_BYTES: a larger MCP message is refused (413) before it is parsed. */
  maxBodyBytes: number
  /** Whether the service runs SQL (SQL_EXECUTE and a database): the tools say so up front. */
  executeAllowed: boolean
}

/** Serves one HTTP request to /mcp (already authenticated) with a fresh stateless server. */
export async function handleMcp(request: Request, tools: McpTools, limits: McpLimits, version: string): Promise<Response> {
  // Not closed afterwards: close() aborts the exchanges still in flight, and a streamed answer is
  // still in flight when its Response is returned. It holds nothing past the request.
  const handler = createMcpHandler(() => buildServer(tools, limits, version), { legacy: 'stateless', maxRequestBodySize: limits.maxBodyBytes })
  return handler.fetch(request)
}

function buildServer(tools: McpTools, limits: McpLimits, version: string): McpServer {
  const server = new McpServer(
    { name: 'txt2sql-edge', version },
    {
      instructions:
        'Answers business questions (Chinese or English) about the company Postgres database with SQL checked by Postgres. ' +
        'Use describe_schema to see the tables, ask for a question in words, run_sql to run SQL you wrote yourself.' +
        UNTRUSTED_NOTE,
    },
  )
  const history = z
    .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().max(limits.maxQuestionChars * 4) }))
    .max(limits.maxHistoryTurns)
  server.registerTool(
    'ask',
    {
      title: 'Ask the database a question',
      description:
        // No example question: the tool serves whatever database is configured (see describe_schema).
        'Turns a business question about this database (in its asker\'s language, often Chinese) into PostgreSQL, checked by the database before it is returned. ' +
        `With execute=true the checked SQL is also run read-only and the first ${limits.maxRows} rows come back, with a short answer in words` +
        (limits.executeAllowed ? '.' : ' (this service does not run SQL: execute is refused).') +
        ' Pass earlier turns as history for a follow-up question.' +
        UNTRUSTED_NOTE,
      inputSchema: z.object({
        question: z.string().trim().min(1).max(limits.maxQuestionChars).describe('The question, in the language of its asker'),
        history: history.optional().describe('Earlier turns of the conversation, oldest first'),
        execute: z.boolean().optional().describe('Run the checked SQL read-only and return its rows'),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (input, ctx) => askResult(escapeDeep(await tools.ask(input, progressReporter(ctx), ctx.mcpReq.signal)), limits.maxRows),
  )
  server.registerTool(
    'describe_schema',
    {
      title: 'Describe the database schema',
      description: 'The tables, views and columns you may query, with their comments (often Chinese business names), as CREATE statements.' + UNTRUSTED_NOTE,
      inputSchema: z.object({ tables: z.array(z.string().min(1)).max(200).optional().describe('Only these tables (by name); all when omitted') }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (input) => schemaResult(escapeDeep(await tools.describeSchema(input))),
  )
  server.registerTool(
    'run_sql',
    {
      title: 'Run read-only SQL',
      description:
        'Checks one PostgreSQL query with the database and runs it read-only (a single SELECT; writes, several statements and server functions are refused), ' +
        `returning at most ${limits.maxRows} rows.` +
        (limits.executeAllowed ? '' : ' This service does not run SQL: only the check is done.') +
        UNTRUSTED_NOTE,
      inputSchema: z.object({ sql: z.string().trim().min(1).max(100_000).describe('One SELECT statement') }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (input, ctx) => runResult(escapeDeep(await tools.runSql(input, ctx.mcpReq.signal)), limits.maxRows),
  )
  return server
}

/** `notifications/progress` when the client asked for them (a progress token), else nothing. */
function progressReporter(ctx: ServerContext): (message: string) => void {
  const token = ctx.mcpReq._meta?.progressToken
  if (token === undefined) return () => {}
  let progress = 0
  return (message) => {
    progress += 1
    // Progress lines quote Postgres's errors and table names: escaped like the results.
    void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, message: escapeControls(message) } }).catch(() => {})
  }
}

// The results below are built from outcomes already escaped (escapeDeep, src/mcp/clean-output.ts):
// every string in them is clean, and the ⟦database content⟧ markers added here are the only ones.

function askResult(o: AskOutcome, maxRows: number): CallToolResult {
  const lines: string[] = []
  if (o.answer.trim()) lines.push(o.answer.trim())
  if (o.unanswerable) lines.push(`The database cannot answer this: ${o.unanswerable.reason}` + (o.unanswerable.closest_tables.length ? ` (closest tables: ${o.unanswerable.closest_tables.join(', ')})` : ''))
  if (o.sql) lines.push(verdictLine(o.sql))
  if (o.summary) lines.push(`Answer: ${o.summary.trim()}`)
  if (o.result) lines.push(rowsText(o.result, o.columns, o.rows, maxRows))
  if (o.error) lines.push(`Error (${o.error.code}): ${o.error.message}`)
  const failed = o.error !== undefined && o.sql === undefined && o.unanswerable === undefined
  return { content: [{ type: 'text', text: lines.join('\n\n') }], structuredContent: { ...o, rows: o.rows?.slice(0, maxRows) }, ...(failed ? { isError: true } : {}) }
}

function schemaResult(o: SchemaOutcome): CallToolResult {
  if (!o.ok) return errorResult(o.error)
  return { content: [{ type: 'text', text: databaseContent('schema (names and comments)', o.ddl) }], structuredContent: { schema_version: o.schema_version, tables: o.tables } }
}

function runResult(o: RunOutcome, maxRows: number): CallToolResult {
  if (!o.ok) return errorResult(o.error)
  const r = o.result
  const lines = [verdictLine(r.check)]
  if (r.result) lines.push(rowsText(r.result, r.columns, r.rows, maxRows))
  const refused = !r.check.ok || (r.result !== undefined && !r.result.ok)
  return { content: [{ type: 'text', text: lines.join('\n\n') }], structuredContent: { ...r, rows: r.rows?.slice(0, maxRows) }, ...(refused ? { isError: true } : {}) }
}

function errorResult(error: ToolError): CallToolResult {
  return { content: [{ type: 'text', text: `Error (${error.code}): ${error.message}` }], structuredContent: { error }, isError: true }
}

function verdictLine(sql: NonNullable<AskOutcome['sql']>): string {
  if (!sql.sql) return `No SQL: ${sql.error ?? 'the answer held none'}`
  const fence = '```sql\n' + sql.sql + '\n```'
  if (!sql.ok) return `${fence}\nRefused by PostgreSQL: ${sql.error}`
  if (sql.checked === false) return `${fence}\nNot checked: ${sql.check_error ?? 'no database'}`
  return `${fence}\nChecked by PostgreSQL${sql.repaired ? ' (repaired after a first refusal)' : ''}.`
}

function rowsText(result: NonNullable<AskOutcome['result']>, columns: AskOutcome['columns'], rows: unknown[][] | undefined, maxRows: number): string {
  if (!result.ok) return `The run failed: ${result.error}`
  const count = result.row_count ?? 0
  const shown = (rows ?? []).slice(0, maxRows)
  const cut = result.truncated ? ` (cut: ${result.truncated_reason ?? 'at the service limit'})` : ''
  const head = `${count} row${count === 1 ? '' : 's'}${cut}` + (count > shown.length ? `; the first ${shown.length}:` : ':')
  if (!columns?.length || shown.length === 0) return `${count} rows${cut}.`
  const cell = (v: unknown) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)).replaceAll('|', '\\|').replaceAll('\n', ' ')
  const table = [`| ${columns.map((c) => cell(c.name)).join(' | ')} |`, `|${columns.map(() => ' --- |').join('')}`, ...shown.map((r) => `| ${r.map(cell).join(' | ')} |`)]
  return `${head}\n${databaseContent('rows', table.join('\n'))}`
}
