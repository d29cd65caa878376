import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { utcDay } from '../usage/windows'

export const adminUsageRoutes = new Hono<AppEnv>()

/** Requests and tokens per caller key (hashed ids) for a UTC day, today by default. */
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
    // Usage is kept while a budget is set; rows of an earlier period with a budget stay readable.
    tracking: dailyTokenBudget > 0,
    keys,
  })
})
