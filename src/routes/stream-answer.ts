import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import { answerQuestion } from '../answer/answer-question'
import { dbIdentityOf } from '../auth/caller'
import { saveRequestRecord } from '../feedback/request-record'
import { withDb } from '../db/connect'
import { countExampleUse } from '../db/examples-table'
import { holdoutExample } from './holdout-example'
import { answerCacheKey } from '../cache/cache-key'
import type { AnswerCachePort, CachedAnswer } from '../cache/cached-answer'
import type { Snapshot } from '../schema/snapshot-schema'
import type { Caller } from '../auth/caller'
import type { AskBody } from './ask-body'
import { loadCallerSnapshot } from './caller-snapshot'
import { runInBackground } from './run-in-background'

/** Shared by `/v1/ask` and `/getAnwser`: the only place the answer path reads bindings. */
export async function streamAnswer(c: Context<AppEnv>, body: AskBody, format: 'sse' | 'legacy-text'): Promise<Response> {
  const config = c.var.config
  c.var.log.set({ question_chars: body.question.length, ...(config.logQuestions ? { question: body.question } : {}) })
  const caller = c.var.caller
  const snapshot = await loadCallerSnapshot(c)
  const holdout = await holdoutExample(c)
  const cache = holdout ? null : await answerCacheFor(c, body, snapshot, caller)
  const stream = await answerQuestion({
    body,
    config,
    snapshot,
    requestId: c.var.requestId,
    startedAt: c.var.startedAt,
    fetch: (input, init) => fetch(input, init),
    log: c.var.log,
    format,
    clientSignal: c.req.raw.signal,
    onSpent: c.var.recordSpent,
    dbIdentity: dbIdentityOf(caller),
    ...(holdout ? { holdoutExampleId: holdout } : {}),
    ...(cache ? { answerCache: cache.port } : {}),
    // The examples' counters (EXAMPLES_TABLE): one UPDATE per answer, after the response — never on its path.
    onExamplesUsed: config.database.url
      ? (used) => {
          if (!used.prompted.length && !used.verified.length) return
          const work = withDb(config.database, (db) => countExampleUse(db, config.database.examplesTable, used), 10_000)
          runInBackground(c, work.catch((err) => console.error(JSON.stringify({ request_id: c.var.requestId, error: 'example counters not updated', detail: String(err) }))))
        }
      : undefined,
    // Feedback needs the question and the SQL of this request id; only kept when a database
    // is configured (feedback is stored there).
    onAnswered: config.database.url
      ? ({ sql, schemaVersion }) =>
          background(c, saveRequestRecord(c.env.SCHEMA_KV, c.var.requestId, { question: body.question, sql, schema_version: schemaVersion, caller: caller.id, at: new Date().toISOString(), ...(cache ? { cache_key: cache.key } : {}) }, config.feedbackTtlSeconds))
      : undefined,
  })
  // text/event-stream for both: the old service used it too, and proxies then do not buffer.
  return c.body(stream, 200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
}

/**
 * The answer cache of this question and caller (docs/SNAPSHOT.md, "The answer cache"): on while
 * ANSWER_CACHE_TTL_SECONDS > 0, for a question without history; `"cache": false` only skips the
 * lookup. The key names one Durable Object; the store happens after the response.
 */
async function answerCacheFor(c: Context<AppEnv>, body: AskBody, snapshot: Snapshot, caller: Caller): Promise<{ key: string; port: AnswerCachePort } | null> {
  const ttl = c.var.config.answerCacheTtlSeconds
  const namespace = c.env.ANSWER_CACHE
  if (ttl <= 0 || !namespace || body.history?.length) return null
  const { model, protocol, enableThinking } = c.var.config.dashscope
  const key = await answerCacheKey({
    question: body.question,
    schemaVersion: snapshot.version,
    role: caller.via === 'jwt' ? caller.role : null,
    claims: caller.via === 'jwt' ? caller.claims : null,
    model: { name: model, protocol, thinking: enableThinking },
  })
  const stub = namespace.get(namespace.idFromName(key))
  return {
    key,
    port: {
      read: body.cache !== false,
      lookup: () => stub.lookup(Date.now()),
      store: (answer: CachedAnswer) =>
        runInBackground(c, stub.store(answer, ttl).catch((err) => console.error(JSON.stringify({ request_id: c.var.requestId, error: 'answer not cached', detail: String(err) })))),
    },
  }
}

function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  runInBackground(c, work.catch((err) => console.error(JSON.stringify({ request_id: c.var.requestId, error: 'request record not saved', detail: String(err) }))))
}
