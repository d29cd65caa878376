import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { cors } from 'hono/cors'
import { secureHeaders } from 'hono/secure-headers'
import type { AppEnv } from './app-env'
import { readConfig } from './config'
import { AppError, toAppError, toErrorResponse } from './errors'
import { RequestLog } from './request-log'
import { adminRoutes } from './routes/admin'
import { adminExampleRoutes } from './routes/admin-examples'
import { adminGlossaryRoutes } from './routes/admin-glossary'
import { adminRoleRoutes } from './routes/admin-roles'
import { adminSqlRoutes } from './routes/admin-sql'
import { adminUsageRoutes } from './routes/admin-usage'
import { adminEvalRoutes } from './routes/admin-evals'
import { askRoutes } from './routes/ask'
import { exampleRoutes } from './routes/examples'
import { feedbackRoutes } from './routes/feedback'
import { healthRoutes } from './routes/health'
import { LEGACY_PATH, legacyErrorFormat, legacyRoutes } from './routes/legacy'
import { mcpRoutes } from './routes/mcp'
import { sqlRoutes } from './routes/sql'

export const app = new Hono<AppEnv>()

// First, so that even the errors of the next middleware (a setting it cannot read) are text there.
app.use(LEGACY_PATH, legacyErrorFormat)

// Security headers on every response of the Worker, its errors and streams included (the static
// files get theirs from public/_headers). The Worker serves no page, so its CSP allows nothing and
// no framing. No Cross-Origin-Resource-Policy / -Opener-Policy: the API and the embed are meant to
// be used from other origins (CORS decides who reads them). HSTS without includeSubDomains: the
// operator's other subdomains are not ours to commit. docs/SECURITY.md, "Security headers".
app.use(
  '*',
  secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    crossOriginResourcePolicy: false,
    crossOriginOpenerPolicy: false,
    strictTransportSecurity: 'max-age=31536000',
    xFrameOptions: 'DENY',
  }),
)

app.use('*', async (c, next) => {
  const startedAt = Date.now()
  // Our own id, never the caller's: feedback and logs are keyed by it.
  const requestId = crypto.randomUUID()
  c.set('requestId', requestId)
  c.set('startedAt', startedAt)
  const log = new RequestLog({ request_id: requestId, method: c.req.method, path: c.req.path }, startedAt)
  c.set('log', log)
  c.header('x-request-id', requestId)
  c.set('config', readConfig(c.env))
  await next()
  if (!log.streaming) log.flush({ status: c.res.status })
})

app.use(
  '*',
  cors({
    origin: (origin, c) => {
      const allowed = (c.var as AppEnv['Variables']).config.corsOrigins
      return allowed.includes('*') ? '*' : allowed.includes(origin) ? origin : null
    },
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    // The mcp-* headers: MCP clients in a browser (the MCP Inspector) on an allowed origin.
    allowHeaders: ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id'],
    exposeHeaders: ['x-request-id', 'retry-after', 'mcp-session-id'],
    maxAge: 600,
  }),
)

app.route('/', askRoutes)
app.route('/', legacyRoutes)
app.route('/', healthRoutes)
app.route('/', adminRoutes)
app.route('/', adminExampleRoutes)
app.route('/', adminGlossaryRoutes)
app.route('/', adminUsageRoutes)
app.route('/', adminRoleRoutes)
app.route('/', adminSqlRoutes)
app.route('/', adminEvalRoutes)
app.route('/', feedbackRoutes)
app.route('/', exampleRoutes)
app.route('/', sqlRoutes)
// The MCP tools call the routes above in process, through the whole app (middleware included).
app.route('/', mcpRoutes(async (request, c) => app.fetch(request, c.env, executionCtxOf(c))))

// Hono answers an unmatched method with its not-found handler: a path some route serves with
// another method is a 405 naming those methods (asked of the router, so no list to keep), anything
// else a 404. Thrown, so that the one onError below writes it like every other error.
app.notFound((c) => {
  const allow = allowedMethods(c.req.path)
  if (allow.length) throw new AppError(405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${allow.join(' or ')}`, { allow })
  throw new AppError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`)
})

app.onError((thrown, c) => {
  const err = toAppError(thrown)
  // A bug or a misconfiguration: logged (without secrets), never shown in detail to the caller.
  if (err.status >= 500 && err.code === 'internal_error') console.error(JSON.stringify({ request_id: c.var.requestId, error: String(thrown) }))
  c.var.log?.set({ error_code: err.code, upstream_status: err.options.upstreamStatus })
  const res = toErrorResponse(err, c.var.errorFormat)
  res.headers.set('x-request-id', c.var.requestId ?? '')
  return res
})

/** The runtime's context, or none (`app.request` in tests): the inner request then runs without one. */
function executionCtxOf(c: Context<AppEnv>): Context<AppEnv>['executionCtx'] | undefined {
  try {
    return c.executionCtx
  } catch {
    return undefined
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const

/** The methods the app's routes (not its middleware) serve at `path`; HEAD wherever GET is, as Hono answers it. */
function allowedMethods(path: string): string[] {
  const served = (method: string) => app.router.match(method, path)[0].some(([[, route]]) => route.method !== 'ALL')
  return METHODS.filter((m) => served(m === 'HEAD' ? 'GET' : m))
}
