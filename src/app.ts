import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { cors } from 'hono/cors'
import type { AppEnv } from './app-env'
import { readConfig } from './config'
import { AppError, toAppError, toErrorResponse } from './errors'
import { RequestLog } from './request-log'
import { adminRoutes } from './routes/admin'
import { adminExampleRoutes } from './routes/admin-examples'
import { adminGlossaryRoutes } from './routes/admin-glossary'
import { adminUsageRoutes } from './routes/admin-usage'
import { askRoutes } from './routes/ask'
import { feedbackRoutes } from './routes/feedback'
import { healthRoutes } from './routes/health'
import { legacyRoutes } from './routes/legacy'
import { mcpRoutes } from './routes/mcp'
import { sqlRoutes } from './routes/sql'

export const app = new Hono<AppEnv>()

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
app.route('/', feedbackRoutes)
app.route('/', sqlRoutes)
// The MCP tools call the routes above in process, through the whole app (middleware included).
app.route('/', mcpRoutes(async (request, c) => app.fetch(request, c.env, executionCtxOf(c))))

// A known path with another method is a 405, not a 404.
const ROUTES: Record<string, string[]> = {
  '/v1/ask': ['POST'],
  '/getAnwser': ['POST'],
  '/healthz': ['GET', 'HEAD'],
  '/v1/feedback': ['POST'],
  '/v1/sql': ['POST'],
  '/v1/admin/schema': ['GET', 'PUT'],
  '/v1/admin/schema/refresh': ['POST'],
  '/v1/admin/schema/overlay': ['GET', 'PUT'],
  '/v1/admin/examples': ['GET', 'POST'],
  '/v1/admin/glossary': ['GET', 'PUT'],
  '/v1/admin/usage': ['GET'],
}

app.notFound((c) => {
  const allowed = ROUTES[c.req.path]
  const err = allowed
    ? new AppError(405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${allowed.join(' or ')}`)
    : new AppError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`)
  const res = errorFor(c.var.errorFormat, err)
  if (allowed) res.headers.set('allow', allowed.join(', '))
  return res
})

app.onError((thrown, c) => {
  const err = toAppError(thrown)
  // A bug or a misconfiguration: logged (without secrets), never shown in detail to the caller.
  if (err.status >= 500 && err.code === 'internal_error') console.error(JSON.stringify({ request_id: c.var.requestId, error: String(thrown) }))
  c.var.log?.set({ error_code: err.code, upstream_status: err.options.upstreamStatus })
  const res = errorFor(c.var.errorFormat, err)
  res.headers.set('x-request-id', c.var.requestId ?? '')
  return res
})

/** The runtime's context, or none (`app.request` in tests): the inner request then runs without one. */
function executionCtxOf(c: Context<AppEnv>): Context<AppEnv>["executionCtx"] | undefined {
  try {
    return c.executionCtx
  } catch {
    return undefined
  }
}

function errorFor(format: 'json' | 'text' | undefined, err: AppError): Response {
  if (format !== 'text') return toErrorResponse(err)
  const res = new Response(`Error: ${err.message}\n`, { status: err.status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
  if (err.options.retryAfterSeconds !== undefined) res.headers.set('retry-after', String(err.options.retryAfterSeconds))
  if (err.options.challenge) res.headers.set('www-authenticate', err.options.challenge)
  return res
}
