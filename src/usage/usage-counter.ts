import { DurableObject } from 'cloudflare:workers'

export type Admission = { ok: boolean; tokens: number }
export type CallerUsage = { id: string; name: string | null; requests: number; refused: number; input_tokens: number; output_tokens: number; tokens: number }

/** Days kept for GET /v1/admin/usage?day=…; older rows are dropped once a day. */
const KEEP_DAYS = 31

/**
 * Requests and tokens per caller key and UTC day (always; the budget only while DAILY_TOKEN_BUDGET is set), in one SQLite-backed Durable Object: every
 * isolate in every location asks the same object, which runs one call at a time, so the budget is
 * exact (an answer already running when a key reaches it still finishes and is counted).
 * Callers are ids (hashes), never keys.
 */
export class UsageCounter extends DurableObject {
  private readonly sql: SqlStorage
  private prunedFor = ''

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS usage (
      day TEXT NOT NULL, caller TEXT NOT NULL,
      requests INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
      input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (day, caller))`)
    // The person behind a JWT caller's id (its `sub`), shown to admins only; one row per caller.
    this.sql.exec('CREATE TABLE IF NOT EXISTS caller_names (caller TEXT PRIMARY KEY, name TEXT NOT NULL)')
  }

  /** A question from `caller` on `day`: admitted (and counted) while its tokens are below `budget`. */
  admit(caller: string, day: string, budget: number, name: string | null = null): Admission {
    this.prune(day)
    this.name(caller, name)
    const row = this.sql.exec<{ tokens: number }>('SELECT input_tokens + output_tokens AS tokens FROM usage WHERE day = ? AND caller = ?', day, caller).toArray()[0]
    const tokens = row?.tokens ?? 0
    const ok = tokens < budget
    this.sql.exec(
      `INSERT INTO usage (day, caller, requests, refused) VALUES (?, ?, ?, ?)
       ON CONFLICT (day, caller) DO UPDATE SET requests = requests + excluded.requests, refused = refused + excluded.refused`,
      day, caller, ok ? 1 : 0, ok ? 0 : 1,
    )
    return { ok, tokens }
  }

  /**
   * A request from `caller` on `day` while no budget is set: only counted. The route does not wait
   * for it (src/routes/limit-caller.ts), so keeping usage costs the answer nothing.
   */
  tally(caller: string, day: string, name: string | null = null): void {
    this.prune(day)
    this.name(caller, name)
    this.sql.exec(
      `INSERT INTO usage (day, caller, requests) VALUES (?, ?, 1)
       ON CONFLICT (day, caller) DO UPDATE SET requests = requests + 1`,
      day, caller,
    )
  }

  /** Tokens DashScope reported for an answer admitted on `day`. */
  record(caller: string, day: string, inputTokens: number, outputTokens: number): void {
    this.sql.exec(
      `INSERT INTO usage (day, caller, input_tokens, output_tokens) VALUES (?, ?, ?, ?)
       ON CONFLICT (day, caller) DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens`,
      day, caller, Math.max(0, Math.trunc(inputTokens)), Math.max(0, Math.trunc(outputTokens)),
    )
  }

  /** Every caller's usage on `day`, most tokens first. */
  report(day: string): CallerUsage[] {
    return this.sql
      .exec<CallerUsage>(
        `SELECT u.caller AS id, n.name AS name, requests, refused, input_tokens, output_tokens, input_tokens + output_tokens AS tokens
         FROM usage u LEFT JOIN caller_names n ON n.caller = u.caller WHERE day = ? ORDER BY tokens DESC, id`,
        day,
      )
      .toArray()
  }

  /** Usage per caller and day from `from` to `to` (inclusive, UTC days), for the console's chart. */
  history(from: string, to: string): (CallerUsage & { day: string })[] {
    return this.sql
      .exec<CallerUsage & { day: string }>(
        `SELECT day, u.caller AS id, n.name AS name, requests, refused, input_tokens, output_tokens, input_tokens + output_tokens AS tokens
         FROM usage u LEFT JOIN caller_names n ON n.caller = u.caller WHERE day >= ? AND day <= ? ORDER BY day, tokens DESC, id`,
        from, to,
      )
      .toArray()
  }

  private name(caller: string, name: string | null): void {
    if (name !== null) this.sql.exec('INSERT INTO caller_names (caller, name) VALUES (?, ?) ON CONFLICT (caller) DO UPDATE SET name = excluded.name', caller, name)
  }

  private prune(day: string): void {
    if (this.prunedFor === day) return
    this.prunedFor = day
    const oldest = new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10)
    this.sql.exec('DELETE FROM usage WHERE day < ?', oldest)
  }
}
