/** The UTC day of an instant, `YYYY-MM-DD`: daily budgets roll over at 00:00 UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** Whole seconds until the next 00:00 UTC (at least 1). */
export function secondsToNextUtcDay(ms: number): number {
  const next = Date.parse(`${utcDay(ms)}T00:00:00Z`) + 86_400_000
  return Math.max(1, Math.ceil((next - ms) / 1000))
}

/**
 * Whole seconds until the fixed window of `periodSeconds` that holds `ms` ends (at least 1). The
 * Rate Limiting binding counts in fixed windows; locally (Miniflare) they are aligned to the
 * clock, and the platform does not say more, so this is the best `retry-after` there is.
 */
export function secondsToWindowEnd(ms: number, periodSeconds: number): number {
  const periodMs = periodSeconds * 1000
  return Math.max(1, Math.ceil((periodMs - (ms % periodMs)) / 1000))
}
