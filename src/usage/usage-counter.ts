import { DurableObject } from 'cloudflare:workers'

export type Admission = { ok: boolean; tokens: number }
export type CallerUsage = { id: string; requests: number; refused: number; input_tokens: number; output_tokens: number; tokens: number }

/** Days kept for GET /v1/admin/usage?day=…; older rows are dropped once a day. */
const KEEP_DAYS = 31

/**
 * Requests and tokens per caller key and UTC day, in one SQLite-backed Durable Object: every
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
  }

  /** A question from `caller` on `day`: admitted (and counted) while its tokens are below `budget`. */
  admit(caller: string, day: string, budget: number): Admission {
    this.prune(day)
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
        `SELECT caller AS id, requests, refused, input_tokens, output_tokens, input_tokens + output_tokens AS tokens
         FROM usage WHERE day = ? ORDER BY tokens DESC, id`,
        day,
      )
      .toArray()
  }

  private prune(day: string): void {
    if (this.prunedFor === day) return
    this.prunedFor = day
    const oldest = new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10)
    this.sql.exec('DELETE FROM usage WHERE day < ?', oldest)
  }
}
