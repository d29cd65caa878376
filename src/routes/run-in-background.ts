import type { Context } from 'hono'
import type { AppEnv } from '../app-env'

/**
 * Work that must finish after the response: `ctx.waitUntil` in the runtime. Without an execution
 * context (`app.request` in tests) the promise still runs to completion, unawaited.
 */
export function runInBackground(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work)
  } catch {
    // No execution context.
  }
}
