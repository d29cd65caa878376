import { AppError } from './errors'
import type { HyperdriveBindingName } from './database-bindings'
import type { SecretName } from './secret-names'

export type Protocol = 'native' | 'openai'

/** Every tunable in one place, parsed from the worker's vars/secrets (wrangler.toml holds defaults). */
export type Config = {
  dashscope: { apiKey: string | undefined; baseUrl: string; model: string; protocol: Protocol; enableThinking: boolean }
  apiKeys: string[]
  /** Callers identified by a JWT (docs/SECURITY.md); undefined while neither JWT_SECRET nor JWT_JWKS_URL is set. */
  jwt: JwtConfig | undefined
  /**
   * DB_ROLES: the Postgres roles a JWT may name. A refresh records what each may read; the SQL of
   * such a caller is checked and run as that role.
   */
  dbRoles: string[]
  adminToken: string | undefined
  /**
   * ADMIN_ROLES: a verified JWT whose role claim names one of these opens the admin routes and the
   * console (/admin/), as the person its `sub` names; such a role opens nothing else unless it is
   * also in DB_ROLES.
   */
  adminRoles: string[]
  corsOrigins: string[]
  /** PAGE_TITLE: the playground's title (and /healthz `page_title`); unset, a generic one. */
  pageTitle: string | undefined
  upstreamIdleTimeoutMs: number
  heartbeatIntervalMs: number
  maxBodyBytes: number
  maxSnapshotBytes: number
  maxQuestionChars: number
  maxHistoryTurns: number
  maxUpstreamEventBytes: number
  logQuestions: boolean
  schemaCacheTtlSeconds: number
  /** Above this many schema tokens, tables are chosen per question (schema linking). */
  schemaTokenBudget: number
  /** When the schema is cut to that budget, tables wider than this show only the columns that matter (0: all columns). */
  wideTableColumns: number
  examplesTopK: number
  examplesTokenBudget: number
  /** PROMPT_HINTS: the operator's hints about their data, added to the system prompt ('' = none). */
  promptHints: string
  /**
   * ANSWER_CACHE_TTL_SECONDS: how long a model's answer is replayed for the same question, schema,
   * role, claims and model settings (the ANSWER_CACHE Durable Object); 0 = no cache.
   */
  answerCacheTtlSeconds: number
  /** Below this best-table linking score a question is answered `unanswerable` without the model (0: never). */
  unanswerableMinScore: number
  database: DatabaseConfig
  feedbackTtlSeconds: number
  /** Rows of a result shown to the model that explains it (`summarize`); never the whole result. */
  summarySampleRows: number
  /** Rows an MCP tool returns to an assistant. */
  mcpMaxRows: number
  sql: SqlConfig
  limits: LimitsConfig
}

/** How a bearer JWT is verified and what names its Postgres role (docs/SECURITY.md, "Who may see what"). */
export type JwtConfig = {
  /** JWT_SECRET: HS256 tokens. */
  secret: string | undefined
  /** JWT_JWKS_URL: RS256/ES256 tokens signed by one of its keys. */
  jwksUrl: string | undefined
  /** How long the fetched keys are used before they are fetched again. */
  jwksTtlSeconds: number
  /** JWT_ISSUER: the `iss` a token must carry (unchecked when unset). */
  issuer: string | undefined
  /** JWT_AUDIENCE (comma-separated): a token's `aud` must name one of these (unchecked when empty). */
  audience: string[]
  /** JWT_ROLE_CLAIM: the top-level claim holding the caller's Postgres role. */
  roleClaim: string
}

/** Per caller key (docs/API.md, "Limits"): off unless configured. */
export type LimitsConfig = {
  /** RATE_LIMIT_ENABLED: apply the ASK_RATE_LIMIT binding (its `simple.limit` per minute). */
  rateLimit: boolean
  /** DAILY_TOKEN_BUDGET: input + output tokens per key and UTC day; 0 = no budget, no usage kept. */
  dailyTokenBudget: number
}

/** What happens to the model's SQL (docs/SECURITY.md). */
export type SqlConfig = {
  /** Check the SQL with Postgres when a database is configured. */
  check: boolean
  /** Callers may ask for the SQL to be run (`"execute": true`). */
  allowExecute: boolean
  /** One repair round when the check fails. */
  repair: boolean
  /**
   * The session that checks and runs model SQL: DATABASE_URL_READONLY, else DATABASE_URL; on the
   * Hyperdrive way the HYPERDRIVE_READONLY binding's connection string, else HYPERDRIVE's.
   */
  url: string | undefined
  /**
   * DB_ROLE_URLS (a secret: a JSON object, role → connection string): one login per role of
   * DB_ROLES. A JWT caller's SQL then runs on its role's own login — nothing to switch back to —
   * instead of SET LOCAL ROLE on the shared one. Undefined: the shared login (docs/SECURITY.md).
   */
  roleUrls: ReadonlyMap<string, string> | undefined
  checkTimeoutMs: number
  executeTimeoutMs: number
  maxRows: number
  maxResultBytes: number
  rowsPerEvent: number
  /**
   * Business-schema functions callers' SQL may call (DB_FUNCTIONS, comma-separated `schema.name`):
   * the admission gate admits only built-ins on its allowlist otherwise (docs/SECURITY.md).
   */
  functions: string[]
}

/**
 * The way to the business database: `neon` — the Neon driver over a WebSocket, to Neon or through
 * NEON_WS_PROXY (the default); `hyperdrive` — node-postgres over TCP to the HYPERDRIVE binding.
 */
export type DatabaseDriver = 'neon' | 'hyperdrive'

export type DatabaseConfig = {
  /** A HYPERDRIVE binding chooses `hyperdrive`; DATABASE_URL and NEON_WS_PROXY are then unused. */
  driver: DatabaseDriver
  /** DATABASE_URL, or the HYPERDRIVE binding's connection string; absent → no introspection, feedback or SQL checks. */
  url: string | undefined
  /** Schemas introspected (DB_SCHEMAS, comma-separated). */
  schemas: string[]
  /** NEON_WS_PROXY: a local WebSocket relay (`host:port/path`) for a plain Postgres; unset for Neon. */
  wsProxy: string | undefined
  connectTimeoutMs: number
  /** Distinct sample values kept per short text column (0 = none). */
  sampleValues: number
  /** Wall-clock budget for sampling values directly from tables that have no statistics. */
  sampleBudgetMs: number
  /** Index all values of text columns with at most this many distinct ones, for linking (0 = off). */
  linkValuesPerColumn: number
  /** At most this many values indexed in all. */
  linkValuesTotal: number
  /** Where question→SQL examples live: `[schema.]table`. */
  examplesTable: { schema: string; name: string }
}

/** Secrets are not in wrangler.toml, so `wrangler types` cannot know them (src/secret-names.ts). */
export type Secrets = Partial<Record<SecretName, string>>
/** Nor the Hyperdrive bindings a derived configuration adds (src/database-bindings.ts). */
export type DatabaseBindings = Partial<Record<HyperdriveBindingName, Hyperdrive>>
export type Bindings = Env & Secrets & DatabaseBindings

export const DEFAULT_BASE_URL = 'https://dashscope.aliyuncs.com'

export function readConfig(env: Bindings): Config {
  const protocol = (env.DASHSCOPE_PROTOCOL || 'native').trim()
  if (protocol !== 'native' && protocol !== 'openai') {
    throw new AppError(500, 'server_misconfigured', `DASHSCOPE_PROTOCOL must be "native" or "openai"`)
  }
  const way = databaseWay(env)
  return {
    dashscope: {
      apiKey: nonEmpty(env.DASHSCOPE_API_KEY),
      baseUrl: (nonEmpty(env.DASHSCOPE_BASE_URL) ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
      model: nonEmpty(env.DASHSCOPE_MODEL) ?? 'qwen-plus',
      protocol,
      enableThinking: flag(env.DASHSCOPE_ENABLE_THINKING),
    },
    apiKeys: list(env.API_KEYS),
    jwt: readJwtConfig(env),
    dbRoles: [...new Set(list(env.DB_ROLES))],
    adminToken: nonEmpty(env.ADMIN_TOKEN),
    adminRoles: [...new Set(list(env.ADMIN_ROLES))],
    corsOrigins: list(env.CORS_ORIGINS),
    pageTitle: nonEmpty(env.PAGE_TITLE),
    upstreamIdleTimeoutMs: int(env.UPSTREAM_IDLE_TIMEOUT_MS, 60_000, 'UPSTREAM_IDLE_TIMEOUT_MS'),
    heartbeatIntervalMs: int(env.HEARTBEAT_INTERVAL_MS, 15_000, 'HEARTBEAT_INTERVAL_MS'),
    maxBodyBytes: int(env.MAX_BODY_BYTES, 65_536, 'MAX_BODY_BYTES'),
    maxSnapshotBytes: int(env.MAX_SNAPSHOT_BYTES, 25 * 1024 * 1024, 'MAX_SNAPSHOT_BYTES'),
    maxQuestionChars: int(env.MAX_QUESTION_CHARS, 2000, 'MAX_QUESTION_CHARS'),
    maxHistoryTurns: int(env.MAX_HISTORY_TURNS, 10, 'MAX_HISTORY_TURNS'),
    maxUpstreamEventBytes: int(env.MAX_UPSTREAM_EVENT_BYTES, 1_048_576, 'MAX_UPSTREAM_EVENT_BYTES'),
    logQuestions: flag(env.LOG_QUESTIONS),
    schemaCacheTtlSeconds: int(env.SCHEMA_CACHE_TTL_SECONDS, 60, 'SCHEMA_CACHE_TTL_SECONDS'),
    schemaTokenBudget: positive(env.SCHEMA_TOKEN_BUDGET, 3000, 'SCHEMA_TOKEN_BUDGET'),
    wideTableColumns: int(env.SCHEMA_WIDE_TABLE_COLUMNS, 20, 'SCHEMA_WIDE_TABLE_COLUMNS'),
    examplesTopK: int(env.EXAMPLES_TOP_K, 5, 'EXAMPLES_TOP_K'),
    examplesTokenBudget: int(env.EXAMPLES_TOKEN_BUDGET, 800, 'EXAMPLES_TOKEN_BUDGET'),
    promptHints: (env.PROMPT_HINTS ?? '').trim(),
    answerCacheTtlSeconds: int(env.ANSWER_CACHE_TTL_SECONDS, 0, 'ANSWER_CACHE_TTL_SECONDS'),
    unanswerableMinScore: decimal(env.UNANSWERABLE_MIN_SCORE, 0.5, 'UNANSWERABLE_MIN_SCORE'),
    database: {
      driver: way.driver,
      url: way.url,
      schemas: list(env.DB_SCHEMAS).length ? list(env.DB_SCHEMAS) : ['public'],
      wsProxy: nonEmpty(env.NEON_WS_PROXY),
      connectTimeoutMs: int(env.DB_CONNECT_TIMEOUT_MS, 10_000, 'DB_CONNECT_TIMEOUT_MS'),
      sampleValues: int(env.INTROSPECT_SAMPLE_VALUES, 5, 'INTROSPECT_SAMPLE_VALUES'),
      sampleBudgetMs: int(env.INTROSPECT_SAMPLE_BUDGET_MS, 10_000, 'INTROSPECT_SAMPLE_BUDGET_MS'),
      linkValuesPerColumn: int(env.LINK_VALUES_PER_COLUMN, 1000, 'LINK_VALUES_PER_COLUMN'),
      linkValuesTotal: int(env.LINK_VALUES_TOTAL, 20_000, 'LINK_VALUES_TOTAL'),
      examplesTable: qualifiedName(nonEmpty(env.EXAMPLES_TABLE) ?? 'txt2sql_examples', 'EXAMPLES_TABLE'),
    },
    feedbackTtlSeconds: int(env.FEEDBACK_TTL_SECONDS, 86_400, 'FEEDBACK_TTL_SECONDS'),
    summarySampleRows: positive(env.SUMMARY_SAMPLE_ROWS, 20, 'SUMMARY_SAMPLE_ROWS'),
    mcpMaxRows: positive(env.MCP_MAX_ROWS, 50, 'MCP_MAX_ROWS'),
    sql: {
      check: env.SQL_CHECK === undefined || env.SQL_CHECK.trim() === '' ? true : flag(env.SQL_CHECK),
      allowExecute: flag(env.SQL_EXECUTE),
      repair: env.SQL_REPAIR === undefined || env.SQL_REPAIR.trim() === '' ? true : flag(env.SQL_REPAIR),
      url: way.readonlyUrl,
      roleUrls: roleUrls(env.DB_ROLE_URLS, list(env.DB_ROLES)),
      checkTimeoutMs: positive(env.SQL_CHECK_TIMEOUT_MS, 3000, 'SQL_CHECK_TIMEOUT_MS'),
      executeTimeoutMs: positive(env.SQL_EXECUTE_TIMEOUT_MS, 5000, 'SQL_EXECUTE_TIMEOUT_MS'),
      maxRows: positive(env.SQL_MAX_ROWS, 500, 'SQL_MAX_ROWS'),
      maxResultBytes: positive(env.SQL_MAX_RESULT_BYTES, 1_048_576, 'SQL_MAX_RESULT_BYTES'),
      rowsPerEvent: positive(env.SQL_ROWS_PER_EVENT, 100, 'SQL_ROWS_PER_EVENT'),
      functions: functionNames(env.DB_FUNCTIONS),
    },
    limits: {
      rateLimit: flag(env.RATE_LIMIT_ENABLED),
      dailyTokenBudget: int(env.DAILY_TOKEN_BUDGET, 0, 'DAILY_TOKEN_BUDGET'),
    },
  }
}

/**
 * The one place that decides how the database is reached: a HYPERDRIVE binding means node-postgres
 * through it (its HYPERDRIVE_READONLY twin for the read-only role); otherwise the Neon driver with
 * DATABASE_URL (and DATABASE_URL_READONLY).
 */
function databaseWay(env: Bindings): { driver: DatabaseDriver; url: string | undefined; readonlyUrl: string | undefined } {
  if (env.HYPERDRIVE) {
    return { driver: 'hyperdrive', url: env.HYPERDRIVE.connectionString, readonlyUrl: (env.HYPERDRIVE_READONLY ?? env.HYPERDRIVE).connectionString }
  }
  if (env.HYPERDRIVE_READONLY) {
    throw new AppError(500, 'server_misconfigured', 'A HYPERDRIVE_READONLY binding needs a HYPERDRIVE binding beside it (docs/DATABASE.md)')
  }
  const url = nonEmpty(env.DATABASE_URL)
  return { driver: 'neon', url, readonlyUrl: nonEmpty(env.DATABASE_URL_READONLY) ?? url }
}

/**
 * DB_ROLE_URLS: `{"analyst": "postgres://analyst:…@host/db", …}` — every role of DB_ROLES and no
 * other, each a postgres:// URL, so no caller's SQL falls back to the shared login unnoticed.
 * Errors name the role, never the URL (it holds a password).
 */
function roleUrls(value: string | undefined, roles: string[]): ReadonlyMap<string, string> | undefined {
  const text = nonEmpty(value)
  if (text === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AppError(500, 'server_misconfigured', 'DB_ROLE_URLS must be a JSON object: {"role": "postgres://…", …}')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppError(500, 'server_misconfigured', 'DB_ROLE_URLS must be a JSON object: {"role": "postgres://…", …}')
  }
  const urls = new Map<string, string>()
  for (const [role, url] of Object.entries(parsed)) {
    if (!roles.includes(role)) throw new AppError(500, 'server_misconfigured', `DB_ROLE_URLS names ${JSON.stringify(role)}, which is not in DB_ROLES`)
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) throw new AppError(500, 'server_misconfigured', `DB_ROLE_URLS: the login of ${JSON.stringify(role)} must be a postgres:// connection string`)
    urls.set(role, url)
  }
  const missing = roles.filter((r) => !urls.has(r))
  if (missing.length) throw new AppError(500, 'server_misconfigured', `DB_ROLE_URLS has no login for ${missing.map((r) => JSON.stringify(r)).join(', ')} of DB_ROLES`)
  return urls
}

/** RFC 7518 §3.2: an HS256 key at least as long as the hash. */
const MIN_JWT_SECRET_CHARS = 32

function readJwtConfig(env: Bindings): JwtConfig | undefined {
  const secret = nonEmpty(env.JWT_SECRET)
  const jwksUrl = nonEmpty(env.JWT_JWKS_URL)
  if (!secret && !jwksUrl) return undefined
  if (secret && secret.length < MIN_JWT_SECRET_CHARS) throw new AppError(500, 'server_misconfigured', `JWT_SECRET must be at least ${MIN_JWT_SECRET_CHARS} characters`)
  if (jwksUrl) {
    let url: URL
    try {
      url = new URL(jwksUrl)
    } catch {
      throw new AppError(500, 'server_misconfigured', 'JWT_JWKS_URL is not a URL')
    }
    // Keys fetched in the clear could be swapped on the way: plain http only on this machine.
    const local = /^(localhost|127\.0\.0\.1|\[::1\])$/.test(url.hostname)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) throw new AppError(500, 'server_misconfigured', 'JWT_JWKS_URL must be an https:// URL')
  }
  return {
    secret,
    jwksUrl,
    jwksTtlSeconds: positive(env.JWT_JWKS_TTL_SECONDS, 600, 'JWT_JWKS_TTL_SECONDS'),
    issuer: nonEmpty(env.JWT_ISSUER),
    audience: list(env.JWT_AUDIENCE),
    roleClaim: nonEmpty(env.JWT_ROLE_CLAIM) ?? 'role',
  }
}

/** A timeout or a cap of 0 would mean "unguarded": refused. */
function positive(value: string | undefined, fallback: number, name: string): number {
  const n = int(value, fallback, name)
  if (n === 0) throw new AppError(500, 'server_misconfigured', `${name} must be at least 1`)
  return n
}

function qualifiedName(value: string, name: string): { schema: string; name: string } {
  const parts = value.split('.')
  const ok = parts.length <= 2 && parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(p))
  if (!ok) throw new AppError(500, 'server_misconfigured', `${name} must be "table" or "schema.table" (letters, digits, _)`)
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: 'public', name: parts[0]! }
}

/** DB_FUNCTIONS: `schema.name` each, as the parser names an unquoted call (folded to lower case). */
function functionNames(value: string | undefined): string[] {
  const names = list(value).map((n) => n.toLowerCase())
  const bad = names.find((n) => !/^[a-z_][a-z0-9_$]{0,62}\.[a-z_][a-z0-9_$]{0,62}$/.test(n))
  if (bad !== undefined) throw new AppError(500, 'server_misconfigured', `DB_FUNCTIONS must list "schema.function" names (letters, digits, _): ${bad}`)
  return names
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim()
  return v ? v : undefined
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

function flag(value: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test(value?.trim() ?? '')
}

function decimal(value: string | undefined, fallback: number, name: string): number {
  const v = nonEmpty(value)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new AppError(500, 'server_misconfigured', `${name} must be a non-negative number`)
  return n
}

function int(value: string | undefined, fallback: number, name: string): number {
  const v = nonEmpty(value)
  if (v === undefined) return fallback
  const n = Number(v)
  // A misconfigured limit is an operator error: fail loudly rather than run unbounded.
  if (!Number.isInteger(n) || n < 0) throw new AppError(500, 'server_misconfigured', `${name} must be a non-negative integer`)
  return n
}
