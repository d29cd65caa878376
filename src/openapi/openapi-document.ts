import * as z from 'zod/mini'
import type { Config } from '../config'
import { BulkSchema, EditSchema, PairListSchema, RejectSchema, WrappedSchema } from '../examples/example-input'
import { askBodySchema } from '../routes/ask-body'
import { MAX_EXAMPLE_QUESTIONS } from '../routes/examples'
import { EvalReportSchema } from '../routes/admin-evals'
import { FeedbackSchema } from '../routes/feedback'
import { GlossarySchema } from '../schema/glossary'
import { OverlaySchema } from '../schema/overlay'
import { SnapshotSchema } from '../schema/snapshot-schema'
import type { AnswerEventName } from '../stream/events'
import { ErrorBodySchema, EVENT_DATA, EVENT_DESCRIPTIONS, SqlRunResponseSchema } from './event-schemas'
import { SqlRequestSchema } from '../routes/sql-body'

/**
 * The OpenAPI 3.1 document of the service, built from the very schemas the routes validate with.
 * It is not part of the Worker (that would cost the bundle zod's JSON Schema code): `npm run
 * openapi` writes it to public/openapi.json, served as a static asset, and
 * test/openapi-document.test.ts fails when the file and this function disagree.
 */
export type DocumentLimits = Pick<Config, 'maxQuestionChars' | 'maxHistoryTurns' | 'maxBodyBytes' | 'maxSnapshotBytes'>

type Json = Record<string, unknown>

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), as a caller sends it. */
function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output' = 'input'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json
  return rest
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: Json) => ({ 'application/json': { schema } })

/** An operation anyone may call: no credentials (stated, so tools do not read it as forgotten). */
const PUBLIC: Json[] = []

// Readiness reads nothing from the request, so it refuses none: the 4XX entry says so and gives the
// error shape every route shares, because API tooling (Redocly's recommended rules) expects one.
const NOT_FROM_HEALTH = {
  '4XX': { description: 'Never answered by /healthz, which reads nothing from the request; any error of the Worker is `{"error": {"code", "message"}}`.', content: json(ref('Error')) },
}

const ERROR_STATUS: Record<string, string> = {
  400: 'Invalid JSON or request (`invalid_json`, `invalid_request`; `example_sql_invalid`: an imported example\'s SQL fails the check, each failing line in `details`), or DashScope refused the question (`upstream_content_rejected`).',
  401: '`unauthorized`: missing, malformed or unknown key; or a JWT that is malformed, badly signed, expired, not yet valid, without `exp`, or for another issuer or audience.',
  403: '`role_not_allowed`: the JWT names no database role of DB_ROLES (on the admin routes: no role of ADMIN_ROLES, or no `sub`); `execute_not_allowed`: `"execute": true` while SQL_EXECUTE is off.',
  404: '`not_found`, or `request_not_found` for feedback on an unknown request.',
  409: '`example_sql_invalid`: the example\'s SQL fails the check, so it cannot be approved; `example_exists`: another example holds that question and SQL.',
  413: '`payload_too_large`: the body is over the limit.',
  415: '`unsupported_media_type`: not application/json.',
  429: '`upstream_throttled`: DashScope throttles; `retry-after` says when to retry.',
  500: '`server_misconfigured`: an operator error in the vars, never caused by a caller.',
  502: 'DashScope or the database refused or failed (`upstream_*`, `database_*`).',
  503: 'Not ready: `schema_unavailable` (also: the snapshot records nothing yet about the caller\'s role), `upstream_not_configured`, `database_not_configured`; `auth_unavailable`: the keys of JWT_JWKS_URL could not be fetched.',
  504: '`upstream_timeout` or `database_timeout`.',
}

function errors(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/Error${s}` }]))
}

function errorResponses(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(ERROR_STATUS).map(([status, description]) => [
      `Error${status}`,
      {
        description,
        headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' } },
        content: json(ref('Error')),
      },
    ]),
  )
}

const EVENT_NAMES = Object.keys(EVENT_DATA) as AnswerEventName[]
const eventSchemaName = (e: AnswerEventName) => `${e[0]!.toUpperCase()}${e.slice(1)}Event`

export function buildOpenApiDocument(limits: DocumentLimits): Json {
  const ask = askBodySchema(limits)
  const anyObject = { type: 'object', additionalProperties: {} }
  return {
    openapi: '3.1.1',
    info: {
      title: 'txt2sql-edge',
      version: '1',
      // The project is private (package.json) and grants no licence; Redocly's recommended rules
      // ask that the document say so rather than leave a reader guessing.
      license: { name: 'Proprietary (UNLICENSED): no licence is granted', identifier: 'LicenseRef-Proprietary' },
      summary: 'A business question in, the model\'s reasoning and checked SQL out, streamed as Server-Sent Events.',
      description:
        'Limits in this document are the defaults of wrangler.toml (MAX_QUESTION_CHARS, MAX_HISTORY_TURNS, MAX_BODY_BYTES, MAX_SNAPSHOT_BYTES); a deployment may set others. Every response of the Worker (every route here, their errors and the 404 of an unknown path) carries `x-request-id`; static files (this document, /api/, the page) are served before the Worker and carry none. Errors before a stream begins are `{"error": {"code", "message"}}`; after it began they are `error` events followed by `done`. docs/API.md says the same at more length.',
    },
    servers: [{ url: '/', description: 'this service' }],
    tags: [
      { name: 'ask', description: 'Questions in, answers streamed' },
      { name: 'feedback', description: 'Callers confirm or correct answers' },
      { name: 'sql', description: 'SQL the caller gives, through the guard of the model\'s SQL' },
      { name: 'mcp', description: 'The Model Context Protocol, for AI apps' },
      { name: 'service', description: 'Health and this document' },
      { name: 'admin', description: 'Schema cache and examples (ADMIN_TOKEN)' },
    ],
    paths: {
      '/v1/ask': {
        post: {
          tags: ['ask'],
          operationId: 'ask',
          summary: 'Ask a question; the answer streams as Server-Sent Events',
          description:
            'Each SSE message is `event: <name>` and one `data:` line holding a JSON object; the schema of the stream below is one message as `{event, data}`. A comment line `: ping` is sent after HEARTBEAT_INTERVAL_MS of upstream silence. A client that disconnects cancels the upstream request.',
          security: CALLER_SECURITY,
          requestBody: { required: true, description: `JSON, at most ${limits.maxBodyBytes} bytes.`, content: json(ref('AskRequest')) },
          responses: {
            200: {
              description: `The answer, as it is written: ${EVENT_NAMES.map((e) => `\`${e}\``).join(', ')}.`,
              headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' } },
              content: { 'text/event-stream': { schema: ref('AnswerEvent') } },
            },
            ...errors(400, 401, 403, 413, 415, 429, 500, 502, 503, 504),
          },
        },
      },
      '/getAnwser': {
        post: {
          tags: ['ask'],
          operationId: 'legacyAsk',
          summary: 'The old Flask contract: only the answer text, streamed',
          description:
            'Kept so old clients work unchanged. A missing or empty question answers 200 with `无法理解,请重新输入问题`. Errors are one line of text, `Error: <message>`, with the status of `/v1/ask` before the stream, appended to the text after it began.',
          security: CALLER_SECURITY,
          requestBody: { required: true, description: `JSON, at most ${limits.maxBodyBytes} bytes.`, content: json(ref('AskRequest')) },
          responses: {
            200: { description: 'The answer text, streamed (no SSE framing).', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            '4XX': { description: 'A refusal before the stream, with the status `/v1/ask` gives it (400, 401, 403, 413, 415, 429): `Error: <message>`.', content: { 'text/plain': { schema: { type: 'string' } } } },
            default: { description: 'An error before the stream: `Error: <message>`.', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      '/v1/feedback': {
        post: {
          tags: ['feedback'],
          operationId: 'feedback',
          summary: "Say whether an answer's SQL was right, or give the right SQL",
          description: 'A confirmed or corrected pair becomes an unapproved example for an admin to approve; a plain "wrong" stores nothing.',
          security: CALLER_SECURITY,
          requestBody: { required: true, description: `JSON, at most ${limits.maxBodyBytes} bytes.`, content: json(ref('FeedbackRequest')) },
          responses: {
            201: { description: 'Stored as an unapproved example.', content: json(ref('FeedbackStored')) },
            202: { description: 'Acknowledged; nothing stored (`correct: false` without `sql`).', content: json(ref('FeedbackStored')) },
            ...errors(400, 401, 403, 404, 413, 415, 502, 503, 504),
          },
        },
      },
      '/v1/examples/questions': {
        get: {
          tags: ['feedback'],
          operationId: 'exampleQuestions',
          summary: 'A few approved example questions the caller may ask',
          description: "The approved examples' questions (as the last refresh read them), within the caller's role view: a JWT caller gets none whose SQL names a table or column its role may not read. The playground's and <txt2sql-chat>'s example buttons.",
          security: CALLER_SECURITY,
          parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_EXAMPLE_QUESTIONS, default: 6 } }],
          responses: {
            200: { description: 'The questions, at most `limit`, in the examples\' order.', content: json({ type: 'object', required: ['questions'], properties: { questions: { type: 'array', items: { type: 'string' } } } }) },
            ...errors(400, 401, 403, 503),
          },
        },
      },
      '/v1/sql': {
        post: {
          tags: ['sql'],
          operationId: 'sql',
          summary: "Check SQL you give with Postgres, and run it read-only with `execute`",
          description:
            "The guard of the model's SQL, on yours: one statement inside a subquery in a read-only transaction, the plan inspected (business schemas only, no server functions), statement and lock timeouts, SQL_MAX_ROWS and SQL_MAX_RESULT_BYTES, the read-only role (DATABASE_URL_READONLY) — and a JWT caller's own role and claims. A refusal by Postgres is a 200 with `check.ok: false` (its message and position); with `execute`, `result` always says what became of the run, with the codes of /v1/ask's `result` event. The MCP server's `run_sql` tool is this route.",
          security: CALLER_SECURITY,
          requestBody: { required: true, description: `JSON, at most ${limits.maxBodyBytes} bytes.`, content: json(ref('SqlRequest')) },
          responses: {
            200: { description: 'The verdict, and with `execute` the rows.', headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' } }, content: json(ref('SqlResponse')) },
            ...errors(400, 401, 403, 413, 415, 429, 500, 502, 503, 504),
          },
        },
      },
      '/mcp': {
        post: {
          tags: ['mcp'],
          operationId: 'mcp',
          summary: 'The MCP server (Streamable HTTP, stateless): tools ask, describe_schema and run_sql',
          description:
            'One JSON-RPC 2.0 message per request, as the Model Context Protocol defines it (the 2025 revisions and 2026-07-28); the answer is JSON, or an SSE stream when progress notifications precede the result. Authenticated like /v1/ask; each tool call is a request of this API in process, with the caller\'s own credentials (the same limits and log lines). GET and DELETE (a stream of server-initiated messages, ending a session) are 405: this server keeps no session. README, "For AI apps", shows the configuration of Claude Desktop, Cursor and Dify.',
          security: CALLER_SECURITY,
          requestBody: { required: true, description: 'A JSON-RPC 2.0 request or notification.', content: json({ type: 'object', required: ['jsonrpc', 'method'], properties: { jsonrpc: { const: '2.0' }, id: { type: ['string', 'integer'] }, method: { type: 'string' }, params: { type: 'object' } } }) },
          responses: {
            200: {
              description: 'The JSON-RPC response, or an SSE stream of notifications ending with it.',
              content: { 'application/json': { schema: { type: 'object' } }, 'text/event-stream': { schema: { type: 'string' } } },
            },
            202: { description: 'A notification, accepted.' },
            ...errors(401, 403, 413),
          },
        },
      },
      '/healthz': {
        get: {
          tags: ['service'],
          operationId: 'health',
          summary: 'Readiness: can a question be answered now?',
          security: PUBLIC,
          responses: {
            200: { description: 'Ready: a usable schema snapshot is cached and a DashScope key is configured.', content: json(ref('Health')) },
            503: {
              description: 'Not ready; `reasons` carry the code `/v1/ask` would answer (e.g. `schema_unavailable`, `upstream_not_configured`).',
              headers: { 'retry-after': { description: 'Seconds to wait before asking again.', schema: { type: 'integer' } } },
              content: json(ref('Health')),
            },
            ...NOT_FROM_HEALTH,
          },
        },
        head: { tags: ['service'], operationId: 'healthHead', summary: 'Readiness from the status alone', security: PUBLIC, responses: { 200: { description: 'Ready.' }, 503: { description: 'Not ready.' }, ...NOT_FROM_HEALTH } },
      },
      '/openapi.json': {
        get: {
          tags: ['service'],
          operationId: 'openapi',
          summary: 'This document (a static asset, served before the Worker: no x-request-id; /api/ renders it)',
          security: PUBLIC,
          responses: { 200: { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) }, 404: { description: 'A deployment built without it (`npm run openapi` writes it): the Worker answers `not_found`.', content: json(ref('Error')) } },
        },
      },
      '/v1/admin/schema': {
        get: admin('getSchema', 'What is cached, where it came from, how the last refresh went', { 200: ok('The cache state.', ref('SchemaState')) }),
        put: admin(
          'putSchema',
          'Upload a curated snapshot (validated in full before it replaces the cached one)',
          { 200: ok('Stored.', { type: 'object', required: ['version', 'tables', 'examples'], properties: { version: { type: 'string' }, tables: { type: 'integer' }, examples: { type: 'integer' } } }), ...errors(400, 413, 415) },
          { required: true, description: `A schema snapshot (docs/SNAPSHOT.md), at most ${limits.maxSnapshotBytes} bytes.`, content: json(ref('Snapshot')) },
        ),
      },
      '/v1/admin/schema/refresh': {
        post: admin('refreshSchema', 'Introspect the database now; a failure keeps the cached snapshot', { 200: ok('The refresh result (docs/API.md lists its fields).', anyObject), ...errors(502, 503, 504) }),
      },
      '/v1/admin/schema/overlay': {
        get: admin('getOverlay', 'The curated comments laid over introspected ones', { 200: ok('The overlay.', ref('Overlay')) }),
        put: admin(
          'putOverlay',
          'Replace the overlay (`?refresh=true` refreshes at once)',
          { 200: ok('Stored.', { type: 'object', properties: { tables: { type: 'integer' }, refresh: {} } }), ...errors(400, 413, 415) },
          { required: true, content: json(ref('Overlay')) },
          [refreshParameter],
        ),
      },
      '/v1/admin/glossary': {
        get: admin('getGlossary', "The company's terms mapped to tables/columns, with definitions", { 200: ok('The glossary (`{terms: []}` when none is stored).', ref('Glossary')) }),
        put: admin(
          'putGlossary',
          'Replace the glossary; every reference must exist in the cached schema (`400 invalid_glossary` lists those that do not in `error.details`)',
          { 200: ok('Stored, and copied into the cached snapshot.', { type: 'object', required: ['terms', 'version'], properties: { terms: { type: 'integer' }, version: { type: 'string' } } }), ...errors(400, 413, 415, 503) },
          { required: true, content: json(ref('Glossary')) },
        ),
      },
      '/v1/admin/glossary/check': {
        post: admin(
          'checkGlossary',
          'Check a glossary against the cached schema without storing it (the console asks as a term is typed)',
          {
            200: ok('The verdict: `problems` lists each reference that does not fit (as `PUT` would refuse it).', {
              type: 'object',
              required: ['ok', 'version', 'problems'],
              properties: { ok: { type: 'boolean' }, version: { type: 'string' }, problems: { type: 'array', items: anyObject }, message: { type: 'string' } },
            }),
            ...errors(400, 413, 415, 503),
          },
          { required: true, content: json(ref('Glossary')) },
        ),
      },
      '/v1/admin/usage': {
        get: admin(
          'getUsage',
          'Requests and tokens per caller (hashed ids; a JWT caller\'s `sub` as `name`) for a UTC day, with the limits in force; kept whether or not DAILY_TOKEN_BUDGET is set',
          {
            200: ok('Usage of the day.', {
              type: 'object',
              required: ['day', 'rate_limit', 'daily_token_budget', 'tracking', 'keys'],
              properties: { day: { type: 'string', format: 'date' }, rate_limit: anyObject, daily_token_budget: { type: 'integer' }, tracking: { type: 'boolean' }, keys: { type: 'array', items: anyObject } },
            }),
            ...errors(400),
          },
          undefined,
          [{ name: 'day', in: 'query', schema: { type: 'string', format: 'date' }, description: 'UTC day, YYYY-MM-DD; today by default.' }],
        ),
      },
      '/v1/admin/usage/history': {
        get: admin(
          'getUsageHistory',
          'Requests and tokens per caller and UTC day over the last days (the console\'s chart); JWT callers carry their `sub` as `name`',
          {
            200: ok('One row per day and caller.', {
              type: 'object',
              required: ['from', 'to', 'rows'],
              properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' }, rows: { type: 'array', items: anyObject } },
            }),
            ...errors(400),
          },
          undefined,
          [{ name: 'days', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 31, default: 14 }, description: 'UTC days back, today included.' }],
        ),
      },
      '/v1/admin/sql': {
        post: admin(
          'adminCheckSql',
          'Check SQL (and with `execute` preview at most 20 rows, read-only) as the service\'s own read-only login: the console\'s verdict as you type and row preview',
          { 200: ok('The verdict, and with `execute` the first rows.', ref('SqlResponse')), ...errors(400, 413, 415, 502, 503, 504) },
          { required: true, content: json(ref('SqlRequest')) },
        ),
      },
      '/v1/admin/roles': {
        get: admin('listRoles', 'The roles the cached snapshot records (a refresh records each of DB_ROLES that exists)', {
          200: ok('The recorded roles.', { type: 'object', required: ['version', 'recorded', 'db_roles'], properties: { version: { type: 'string' }, recorded: { type: 'array', items: { type: 'string' } }, db_roles: { type: 'array', items: { type: 'string' } } } }),
          ...errors(503),
        }),
      },
      '/v1/admin/roles/{role}/view': {
        get: admin(
          'previewRole',
          'What the model would see as this role: its tables and columns, and what is hidden from it',
          {
            200: ok('The role\'s view.', {
              type: 'object',
              required: ['role', 'version', 'tables', 'hidden_tables'],
              properties: {
                role: { type: 'string' },
                version: { type: 'string' },
                tables: { type: 'array', items: { type: 'object', properties: { schema: { type: 'string' }, name: { type: 'string' }, columns: { type: 'array', items: { type: 'string' } }, hidden_columns: { type: 'array', items: { type: 'string' } }, row_security: { type: 'boolean' } } } },
                hidden_tables: { type: 'array', items: { type: 'string' } },
                examples: { type: 'integer' },
                glossary_terms: { type: 'integer' },
              },
            }),
            ...errors(404, 503),
          },
          undefined,
          [{ name: 'role', in: 'path', required: true, schema: { type: 'string' } }],
        ),
      },
      '/v1/admin/examples': {
        get: admin(
          'listExamples',
          'List question→SQL examples (pending feedback by default)',
          { 200: ok('A page of examples.', { type: 'object', required: ['examples', 'total', 'limit', 'offset'], properties: { examples: { type: 'array', items: ref('StoredExample') }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } }), ...errors(400, 502, 503, 504) },
          undefined,
          [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['pending', 'approved', 'rejected', 'all'], default: 'pending' } },
            { name: 'table', in: 'query', description: 'Only examples whose SQL names this table (`name` or `schema.name`).', schema: { type: 'string' } },
            { name: 'q', in: 'query', description: 'Only examples whose question or SQL contains this text (any case).', schema: { type: 'string', maxLength: 200 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          ],
        ),
        post: admin(
          'importExamples',
          'Import question→SQL pairs (JSON or CSV with a question,sql[,approved] header)',
          { 201: ok('Imported.', { type: 'object', properties: { received: { type: 'integer' }, inserted: { type: 'integer' }, duplicates: { type: 'integer' }, ids: { type: 'array', items: { type: 'string' } }, refresh: {} } }), ...errors(400, 413, 415, 502, 503, 504) },
          { required: true, content: { ...json(ref('ExamplesImport')), 'text/csv': { schema: { type: 'string' } } } },
          [refreshParameter],
        ),
      },
      '/v1/admin/evals': {
        post: admin(
          'storeEval',
          'Store an `eval:live --approved` report (accuracy on the approved examples, misses with reasons)',
          { 201: ok('Stored.', { type: 'object', required: ['id'], properties: { id: { type: 'string' } } }), ...errors(400, 413, 415) },
          { required: true, content: json(jsonSchema(EvalReportSchema)) },
        ),
        get: admin(
          'listEvals',
          'The stored eval reports, newest first',
          { 200: ok('Reports.', { type: 'object', required: ['reports'], properties: { reports: { type: 'array', items: jsonSchema(EvalReportSchema, 'output') } } }), ...errors(400) },
          undefined,
          [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }],
        ),
      },
      '/v1/admin/examples-bulk': {
        post: admin(
          'bulkExamples',
          'One action (approve, unapprove, reject, delete) on many examples, each as its own route does it; one refresh at the end with ?refresh=true',
          {
            200: ok('Each id\'s outcome.', {
              type: 'object',
              required: ['results', 'refresh'],
              properties: {
                results: { type: 'array', items: { type: 'object', required: ['id', 'ok'], properties: { id: { type: 'string' }, ok: { type: 'boolean' }, example: ref('StoredExample'), error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } },
                refresh: {},
              },
            }),
            ...errors(400, 413, 415, 502, 503, 504),
          },
          { required: true, content: json(jsonSchema(BulkSchema)) },
          [refreshParameter],
        ),
      },
      '/v1/admin/examples/{id}/approve': {
        post: admin(
          'approveExample',
          'Approve an example: its SQL is checked again now (409 `example_sql_invalid` while it fails); it reaches prompts and verified answers at the next refresh',
          { 200: ok('The example.', exampleChange), ...errors(400, 404, 409, 502, 503, 504) },
          undefined,
          [idParameter, refreshParameter],
        ),
      },
      '/v1/admin/examples/{id}/unapprove': {
        post: admin('unapproveExample', 'Withdraw an approval (pending again)', { 200: ok('The example.', exampleChange), ...errors(400, 404, 502, 503, 504) }, undefined, [idParameter, refreshParameter]),
      },
      '/v1/admin/examples/{id}/reject': {
        post: admin(
          'rejectExample',
          'Reject an example: a stored state with who and why; it leaves prompts and the pending queue',
          { 200: ok('The example.', exampleChange), ...errors(400, 404, 413, 415, 502, 503, 504) },
          { required: false, content: json(jsonSchema(RejectSchema)) },
          [idParameter, refreshParameter],
        ),
      },
      '/v1/admin/examples/{id}': {
        get: admin('getExample', 'One example', { 200: ok('The example.', { type: 'object', required: ['example'], properties: { example: ref('StoredExample') } }), ...errors(400, 404, 502, 503, 504) }, undefined, [idParameter]),
        patch: admin(
          'editExample',
          'Edit the question and/or SQL: checked again and the verdict stored (an approved example whose new SQL fails is pending again); 409 `example_exists` when another example holds the same pair',
          { 200: ok('The example.', exampleChange), ...errors(400, 404, 409, 413, 415, 502, 503, 504) },
          { required: true, content: json(jsonSchema(EditSchema)) },
          [idParameter, refreshParameter],
        ),
        delete: admin('deleteExample', 'Delete an example', { 200: ok('Deleted.', { type: 'object', properties: { deleted: { type: 'string' }, refresh: {} } }), ...errors(400, 404, 502, 503, 504) }, undefined, [idParameter, refreshParameter]),
      },
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS: the service\'s own database role, everything it may read. Needed only when API_KEYS or a JWT setting is set (open otherwise).' },
        jwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT verified with JWT_SECRET (HS256) or the keys of JWT_JWKS_URL (RS256, ES256): signature, `exp` (required) and `nbf` always, `iss`/`aud` when JWT_ISSUER/JWT_AUDIENCE are set. Its JWT_ROLE_CLAIM (default `role`) must name one of DB_ROLES: the model then sees only what that Postgres role may read, and its SQL is checked and run as that role with the claims in `request.jwt.claims` (docs/SECURITY.md).',
        },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, for scripts: changes are recorded as made by `admin-token`. The admin routes are closed while neither ADMIN_TOKEN nor ADMIN_ROLES is set.' },
        adminJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT verified as callers\' tokens are (JWT_SECRET or JWT_JWKS_URL) whose role claim names one of ADMIN_ROLES (DB_ROLES do not count: `403 role_not_allowed`) and whose `sub` names the person: every change records it (`approved_by`, `updated_by`, `rejected_by`) and the request\'s log line is its audit record (docs/ADMIN.md).',
        },
        cloudflareAccess: { type: 'apiKey', in: 'header', name: 'Cf-Access-Jwt-Assertion', description: 'With Cloudflare Access in front of /admin/ and /v1/admin/*, and JWT_JWKS_URL the Access team\'s certs URL: the JWT Access adds, read when there is no Authorization header; the same role rule as `adminJwt`.' },
      },
      headers: {
        RequestId: { description: 'The id the service gave this request (also in `meta`).', schema: { type: 'string', format: 'uuid' } },
      },
      responses: errorResponses(),
      schemas: {
        AskRequest: jsonSchema(ask),
        FeedbackRequest: jsonSchema(FeedbackSchema),
        SqlRequest: jsonSchema(SqlRequestSchema),
        SqlResponse: jsonSchema(SqlRunResponseSchema, 'output'),
        FeedbackStored: {
          type: 'object',
          required: ['stored', 'example'],
          properties: {
            stored: { type: 'boolean' },
            example: { oneOf: [{ type: 'null' }, { type: 'object', properties: { id: { type: 'string' }, approved: { type: 'boolean' }, source: { type: 'string' } } }] },
          },
        },
        Health: {
          type: 'object',
          required: ['ok', 'schema_version', 'model', 'execute'],
          properties: {
            ok: { type: 'boolean' },
            schema_version: { type: ['string', 'null'] },
            model: { type: 'string' },
            execute: { type: 'boolean', description: 'Whether `"execute": true` would be accepted on /v1/ask (SQL_EXECUTE on, and the SQL checked against a database).' },
            page_title: { type: ['string', 'null'], description: 'PAGE_TITLE: the title the playground shows; null when unset (a generic one).' },
            execute_reason: {
              type: 'object',
              description: 'Only when `execute` is false: why, with the code `/v1/ask` would refuse `"execute": true` with (`execute_not_allowed`: SQL_EXECUTE is off; `database_not_configured`: no database to check and run on).',
              required: ['code', 'message'],
              properties: { code: { type: 'string', enum: ['execute_not_allowed', 'database_not_configured'] }, message: { type: 'string' } },
            },
            reasons: {
              type: 'array',
              description: 'Only when not ready: why.',
              items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
        Error: jsonSchema(ErrorBodySchema, 'output'),
        AnswerEvent: {
          description: 'One Server-Sent Event of the answer: its `event:` name and the JSON object on its `data:` line.',
          oneOf: EVENT_NAMES.map((e) => ref(eventSchemaName(e))),
          discriminator: { propertyName: 'event', mapping: Object.fromEntries(EVENT_NAMES.map((e) => [e, `#/components/schemas/${eventSchemaName(e)}`])) },
        },
        ...Object.fromEntries(
          EVENT_NAMES.map((e) => [
            eventSchemaName(e),
            {
              type: 'object',
              description: EVENT_DESCRIPTIONS[e],
              required: ['event', 'data'],
              properties: { event: { const: e }, data: jsonSchema(EVENT_DATA[e], 'output') },
            },
          ]),
        ),
        Snapshot: jsonSchema(SnapshotSchema),
        Overlay: jsonSchema(OverlaySchema),
        Glossary: jsonSchema(GlossarySchema),
        ExamplesImport: { oneOf: [jsonSchema(WrappedSchema), jsonSchema(PairListSchema)] },
        SchemaState: {
          type: 'object',
          properties: {
            snapshot: { oneOf: [{ type: 'null' }, { type: 'object' }] },
            last_refresh: { oneOf: [{ type: 'null' }, { type: 'object' }] },
            overlay: { oneOf: [{ type: 'null' }, { type: 'object', properties: { tables: { type: 'integer' } } }] },
            database: { type: 'object', properties: { configured: { type: 'boolean' }, schemas: { type: 'array', items: { type: 'string' } } } },
          },
        },
        StoredExample: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            question: { type: 'string' },
            sql: { type: 'string' },
            source: { type: 'string' },
            status: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
            approved: { type: 'boolean', description: '`status` is `approved`.' },
            request_id: { type: ['string', 'null'] },
            created_at: { type: 'string' },
            approved_at: { type: ['string', 'null'] },
            approved_by: { type: ['string', 'null'], description: '`admin-token`, or the approving person\'s JWT `sub`.' },
            rejected_at: { type: ['string', 'null'] },
            rejected_by: { type: ['string', 'null'] },
            rejected_reason: { type: ['string', 'null'] },
            updated_at: { type: ['string', 'null'] },
            updated_by: { type: ['string', 'null'] },
            sent_by: { type: ['string', 'null'], description: 'Who sent it: `admin-token`, `key:<hash>`, `sub:<sub>` or `anonymous`.' },
            sent_role: { type: ['string', 'null'], description: 'The database role of the JWT it was sent with.' },
            model_sql: { type: ['string', 'null'], description: "The model's SQL that this example's SQL corrects (a `wrong` feedback with the right SQL); null otherwise." },
            check: {
              description: "The check's verdict (the admission gate and Postgres, as the service's read-only login); null for a row stored before checks existed.",
              oneOf: [
                { type: 'null' },
                { type: 'object', required: ['ok', 'checked_at'], properties: { ok: { type: 'boolean' }, error: { type: 'string' }, checked_at: { type: 'string' } } },
              ],
            },
            prompted: { type: 'integer', description: 'Times it was put in a prompt.' },
            verified: { type: 'integer', description: 'Times it answered a question verified.' },
          },
        },
      },
    },
  }

  function admin(operationId: string, summary: string, responses: Json, requestBody?: Json, parameters?: Json[]): Json {
    return {
      tags: ['admin'],
      operationId,
      summary,
      security: [{ adminToken: [] }, { adminJwt: [] }, { cloudflareAccess: [] }],
      ...(parameters ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: { ...responses, ...errors(401, 403) },
    }
  }
}

/** The callers' routes: open, an API key, or a JWT (docs/API.md, Authentication). */
const CALLER_SECURITY = [{}, { apiKey: [] }, { jwt: [] }]
const ok = (description: string, schema: Json) => ({ description, content: json(schema) })
const refreshParameter = { name: 'refresh', in: 'query', description: '`true` refreshes the snapshot after the write.', schema: { type: 'string', enum: ['true', 'false', '1', '0', 'yes', 'no'] } }
const exampleChange = { type: 'object', required: ['example', 'refresh'], properties: { example: { $ref: '#/components/schemas/StoredExample' }, refresh: {} } }
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]{0,17}$' } }
