import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { utcDay } from '../usage/windows'

export const adminUsageRoutes = new Hono<AppEnv>()

/** The days the usage object keeps (src/usage/usage-counter.ts). */
const MAX_DAYS = 31

/**
 * Requests and tokens per caller for a UTC day, today by default. Callers are hashed ids; a JWT
 * caller's id also carries its person (`name`, the token's `sub`), for admins only.
 */
adminUsageRoutes.get('/v1/admin/usage', requireAdmin, async (c) => {
  const day = c.req.query('day') ?? utcDay(Date.now())
  // Round-tripped: Date.parse takes 2026-02-30 for March 2nd.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || utcDay(Date.parse(`${day}T00:00:00Z`)) !== day) {
    throw new AppError(400, 'invalid_request', 'day must be a UTC date, YYYY-MM-DD')
  }
  const { rateLimit, dailyTokenBudget } = c.var.config.limits
  const keys = await c.env.USAGE.getByName('usage').report(day)
  return c.json({
    day,
    rate_limit: rateLimit,
    daily_token_budget: dailyTokenBudget,
    // Usage is kept whether or not a budget is set (a budget also refuses callers over it).
    tracking: true,
    keys,
  })
})

/** The last `days` UTC days (today included, 14 by default), per day and caller: the console's chart. */
adminUsageRoutes.get('/v1/admin/usage/history', requireAdmin, async (c) => {
  const raw = c.req.query('days') ?? '14'
  const days = Number(raw)
  if (!/^\d+$/.test(raw) || days < 1 || days > MAX_DAYS) throw new AppError(400, 'invalid_request', `days must be an integer from 1 to ${MAX_DAYS}`)
  const now = Date.now()
  const to = utcDay(now)
  const from = utcDay(now - (days - 1) * 86_400_000)
  const rows = await c.env.USAGE.getByName('usage').history(from, to)
  return c.json({ from, to, rows })
})
