import { app } from './app'
import { readConfig, type Bindings } from './config'
import { toAppError } from './errors'
import { refreshSnapshot } from './schema/refresh'

/** The Durable Object behind DAILY_TOKEN_BUDGET (wrangler.toml `durable_objects`). */
export { UsageCounter } from './usage/usage-counter'
/** The answer cache (ANSWER_CACHE_TTL_SECONDS): one object per cache key. */
export { AnswerCache } from './cache/answer-cache-object'

export default {
  fetch: app.fetch,
  /** The Cron Trigger (wrangler.toml `[triggers]`): refresh the schema cache from the database. */
  async scheduled(controller, env) {
    try {
      // A bad setting is logged as a failed refresh with its code, as the API answers it — not thrown.
      const config = readConfig(env)
      if (!config.database.url) return console.log(JSON.stringify({ cron: controller.cron, refresh: 'skipped', reason: 'no DATABASE_URL' }))
      const r = await refreshSnapshot(env.SCHEMA_KV, config, 'cron', env.ASSETS)
      console.log(JSON.stringify({ cron: controller.cron, refresh: 'ok', version: r.version, changed: r.changed, tables: r.tables, duration_ms: r.duration_ms }))
    } catch (err) {
      const e = toAppError(err)
      // The previous snapshot stays; the failure is logged and kept for GET /v1/admin/schema.
      console.error(JSON.stringify({ cron: controller.cron, refresh: 'failed', code: e.code, message: e.message }))
    }
  },
} satisfies ExportedHandler<Bindings>
