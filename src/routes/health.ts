import { Hono } from 'hono'
import type { AppEnv } from '../app-env'
import { loadSnapshot } from '../schema/snapshot-store'

export const healthRoutes = new Hono<AppEnv>()

/**
 * Liveness plus what a request would use: `ok` is false while no usable snapshot is cached;
 * `execute` says whether `"execute": true` would be accepted (the playground shows its checkbox).
 */
healthRoutes.get('/healthz', async (c) => {
  const config = c.var.config
  const snapshot = await loadSnapshot(c.env.SCHEMA_KV, { cacheTtlSeconds: config.schemaCacheTtlSeconds }).catch(() => null)
  return c.json({
    ok: snapshot !== null && config.dashscope.apiKey !== undefined,
    schema_version: snapshot?.version ?? null,
    model: config.dashscope.model,
    execute: config.sql.allowExecute && config.sql.check && config.sql.url !== undefined,
  })
})
