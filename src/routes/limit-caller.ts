import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { callerKeyOf } from '../usage/caller-key'
import { secondsToNextUtcDay, secondsToWindowEnd, utcDay } from '../usage/windows'
import { runInBackground } from './run-in-background'

/** The ASK_RATE_LIMIT binding's period (wrangler.toml `simple.period`). */
const RATE_LIMIT_PERIOD_SECONDS = 60
/** The one UsageCounter object: exact across isolates (src/usage/usage-counter.ts). */
const USAGE_OBJECT = 'usage'

/**
 * Per caller key, before anything is spent: requests per minute (the Rate Limiting binding) →
 * 429 `rate_limited`; then the daily token budget (the USAGE Durable Object) → 429
 * `quota_exceeded`, so DashScope is never called for a key over its budget. Usage (requests and
 * tokens per caller and day, GET /v1/admin/usage) is kept always: with a budget the admission
 * counts the request; without one the request is counted in the background (waitUntil), so the
 * answer never waits for the object. Either way `recordSpent` reports the tokens DashScope counted.
 */
export const limitCaller: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { rateLimit, dailyTokenBudget } = c.var.config.limits
  const who = c.var.caller
  // A JWT caller counts as its subject (the same across token refreshes); an API key as its hash.
  const caller = who.via === 'jwt' && who.id ? who.id : await callerKeyOf(c.req.header('authorization'), who.via === 'key', c.req.header('cf-connecting-ip'))
  // Admins see the person behind a JWT caller's hash (GET /v1/admin/usage); keys and IPs stay hashes.
  const name = who.via === 'jwt' ? who.sub : null
  if (rateLimit) {
    const { success } = await c.env.ASK_RATE_LIMIT.limit({ key: caller })
    if (!success) {
      throw new AppError(429, 'rate_limited', 'Too many requests for this key: retry after the time in retry-after', { retryable: true, retryAfterSeconds: secondsToWindowEnd(Date.now(), RATE_LIMIT_PERIOD_SECONDS) })
    }
  }
  const now = Date.now()
  const day = utcDay(now)
  const usage = c.env.USAGE.getByName(USAGE_OBJECT)
  const inBackground = (work: Promise<unknown>, what: string) =>
    runInBackground(c, work.catch((err: unknown) => console.error(JSON.stringify({ request_id: c.var.requestId, error: what, detail: String(err) }))))
  if (dailyTokenBudget > 0) {
    const admission = await usage.admit(caller, day, dailyTokenBudget, name)
    if (!admission.ok) {
      throw new AppError(429, 'quota_exceeded', `This key has used its ${dailyTokenBudget} tokens for today (UTC): retry after the time in retry-after`, { retryAfterSeconds: secondsToNextUtcDay(now) })
    }
  } else {
    inBackground(usage.tally(caller, day, name), 'request not counted')
  }
  c.set('recordSpent', (spent) => {
    if (spent.input_tokens + spent.output_tokens <= 0) return
    inBackground(usage.record(caller, day, spent.input_tokens, spent.output_tokens), 'token usage not recorded')
  })
  await next()
}
