import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { executeRefusal } from '../answer/execute-refusal'
import { toAppError } from '../errors'
import { loadServedSnapshot } from './served-snapshot'

export const healthRoutes = new Hono<AppEnv>()

/**
 * Readiness: 200 `ok: true` when a question can be answered (a usable schema snapshot is cached
 * and a DashScope key is configured); otherwise 503 with `ok: false` and the reasons, each with
 * the code `/v1/ask` would answer — so a load balancer or `npm start` reads "not ready" from the
 * status alone, and a person reads why from the body.
 */
healthRoutes.get('/healthz', async (c) => {
  const config = c.var.config
  const reasons: { code: string; message: string }[] = []
  // Only a snapshot of the configured database makes the service ready (and a stale one starts its refresh).
  const snapshot = await loadServedSnapshot(c).catch((err: unknown) => {
    const { code, message } = toAppError(err)
    reasons.push({ code, message })
    return null
  })
  if (config.dashscope.apiKey === undefined) reasons.push({ code: 'upstream_not_configured', message: 'No DashScope API key is configured (set the DASHSCOPE_API_KEY secret)' })
  // Whether `"execute": true` would be accepted (the playground shows its checkbox only then), and
  // when not, why (the playground says so where the rows would be).
  const refusal = executeRefusal(config.sql)
  const body = {
    ok: reasons.length === 0,
    schema_version: snapshot?.version ?? null,
    model: config.dashscope.model,
    execute: refusal === undefined,
    // The playground's title: the operator's words for their data, not the code's (docs/API.md).
    page_title: config.pageTitle ?? null,
    ...(refusal ? { execute_reason: { code: refusal.code, message: refusal.message } } : {}),
  }
  if (reasons.length === 0) return c.json(body)
  c.header('retry-after', String(HEALTH_RETRY_AFTER_SECONDS))
  return c.json({ ...body, reasons }, 503)
})

/** What a not-ready answer suggests waiting: the first refresh of `npm start` takes a few seconds. */
export const HEALTH_RETRY_AFTER_SECONDS = 5
