import type { DbIdentity } from '../db/guarded-sql'
import type { Config } from '../config'
import { buildUpstreamRequest } from '../dashscope/build-request'
import { openUpstream } from '../dashscope/open-upstream'
import { AppError, toAppError } from '../errors'
import { buildPrompt, conversationText } from '../prompt/build-prompt'
import type { RequestLog } from '../request-log'
import type { Snapshot } from '../schema/snapshot-schema'
import type { ChatMessage } from '../dashscope/build-request'
import { pipeAnswer, type PipelineOptions } from '../stream/answer-pipeline'
import { uncheckedSqlData, type AfterAnswer, type AnswerSummary, type Emit, type InnerEnd } from '../stream/answer-events'
import type { ExtractedSql } from '../sql/extract-sql'
import { sha256Hex } from '../schema/bytes'
import { encodeLegacyText, encodeSse } from '../stream/encode-sse'
import type { StreamItem, Usage } from '../stream/events'
import { notRun } from '../stream/not-run'
import { judgeAnswerable } from './judge-answerable'
import { executeRefusal } from './execute-refusal'
import { reportOutcome, verifyAnswer } from './verify-answer'
import type { AskBody } from '../routes/ask-body'
import { guardSql } from './guard-sql'
import { linkIndexFor } from '../linking/index-cache'
import { matchVerified, type VerifiedMatch } from '../examples/match-verified'
import { replayBody } from './replay-body'
import type { MetaData } from '../stream/events'
import { answerRecorder, type AnswerCachePort, type CachedAnswer } from '../cache/cached-answer'

export type AnswerQuestionInput = {
  body: AskBody
  config: Config
  snapshot: Snapshot
  requestId: string
  startedAt: number
  fetch: typeof fetch
  log: RequestLog
  format: 'sse' | 'legacy-text'
  /** The incoming request's signal: aborted when the client disconnects. */
  clientSignal?: AbortSignal
  /** Called once when the answer is complete (not when the client left). */
  onAnswered?: (answer: { sql: string | null; schemaVersion: string }) => void
  /**
   * The tokens DashScope reported, when it reported any: at the end of the answer (also one that
   * ended with an error), or when the client left; a repair finishing after that reports the rest.
   */
  onSpent?: (spent: Usage) => void
  /** A JWT caller's role and claims (the snapshot is already cut to the role's view). */
  dbIdentity?: DbIdentity
  /**
   * The examples this answer used: put in its prompt, or answering it verified. For the counters
   * in EXAMPLES_TABLE; called once, before the answer streams (the route counts in the background).
   */
  onExamplesUsed?: (used: { prompted: string[]; verified: string[] }) => void
  /** An example held out of this answer (eval: neither in the prompt nor answered verified). */
  holdoutExampleId?: string
  /** The answer cache for this question and caller, when it is on (src/cache/). */
  answerCache?: AnswerCachePort
}

/**
 * Builds the prompt, opens the upstream stream (refusals throw AppError before any byte is sent)
 * and returns the piped answer as a readable byte stream.
 */
export async function answerQuestion(input: AnswerQuestionInput): Promise<ReadableStream<Uint8Array>> {
  const { config, body, log, snapshot } = input
  const holdout = input.holdoutExampleId
  const { apiKey, baseUrl, model, protocol, enableThinking } = config.dashscope
  const checking = config.sql.check && config.sql.url !== undefined
  const refusal = body.execute ? executeRefusal(config.sql) : undefined
  if (refusal) throw refusal
  // An approved example answers without the model when its SQL passes the check now, as this caller.
  let fallback: MetaData['verified_fallback']
  if (checking && !body.history?.length) {
    const match = matchVerified(snapshot, linkIndexFor(snapshot), body.question, holdout)
    if (match) {
      const verified = await answerVerified(input, snapshot, match)
      if ('stream' in verified) return verified.stream
      fallback = verified.fallback
    }
  }
  // The same question asked before, under the same schema, role, claims and model settings.
  const cached = input.answerCache?.read ? await input.answerCache.lookup().catch(() => null) : null
  if (cached) return answerCached(input, snapshot, cached, checking)
  if (!apiKey) {
    throw new AppError(503, 'upstream_not_configured', 'No DashScope API key is configured (set the DASHSCOPE_API_KEY secret)')
  }
  // Nothing in the schema matches: say so at once, without paying for a call that can only guess.
  const verdict = judgeAnswerable(snapshot, conversationText(body), config.unanswerableMinScore)
  if (!verdict.answerable) return answerUnanswerable(input, verdict)
  const prompt = buildPrompt({
    question: body.question,
    history: body.history,
    snapshot,
    schemaTokenBudget: config.schemaTokenBudget,
    wideTableColumns: config.wideTableColumns,
    examplesTopK: config.examplesTopK,
    examplesTokenBudget: config.examplesTokenBudget,
    hints: config.promptHints,
    ...(holdout ? { skipExample: holdout } : {}),
  })
  input.onExamplesUsed?.({ prompted: prompt.examples.flatMap((e) => (e.id ? [e.id] : [])), verified: [] })
  log.set({ model, protocol })
  const controller = new AbortController()
  const upstream = await openUpstream(buildUpstreamRequest({ protocol, baseUrl, apiKey, model, messages: prompt.messages, enableThinking }), {
    fetch: input.fetch,
    controller,
    headersTimeoutMs: config.upstreamIdleTimeoutMs,
  })
  log.set({ upstream_status: upstream.status })
  log.streaming = true
  const meta: MetaData = {
    ...baseMeta(input, snapshot, prompt.tables),
    examples: prompt.examples.flatMap((e) => (e.id ? [{ id: e.id, similarity: e.similarity ?? 0 }] : [])),
    glossary: prompt.glossary,
    ...(fallback ? { verified_fallback: fallback } : {}),
  }
  const streamInner = innerStreamer(input, controller, meta)
  return pipeAnswer(upstream.body!, {
    ...sharedOptions(input),
    protocol,
    ...(input.answerCache && !holdout ? { observe: answerRecorder(meta, input.answerCache.store) } : {}),
    afterAnswer: async (found, emit) => {
      const after = checking
        ? await verifyAnswer(found, guardEmit(emit, controller), {
            config,
            execute: body.execute === true,
            messages: prompt.messages,
            streamRepair: streamInner(enableThinking),
            ...(body.summarize ? { summarize: { question: body.question, stream: streamInner(false) } } : {}),
            ...(input.dbIdentity ? { as: input.dbIdentity } : {}),
            audit: (fields) => log.set(fields),
          })
        : reportUnchecked(found, emit)
      // The audit's handle on the SQL: the same text has the same hash in every log line.
      log.set({ sql_hash: after.sql === null ? null : (await sha256Hex(after.sql)).slice(0, 16) })
      return after
    },
    meta,
    closestTables: verdict.closest,
    ...endOptions(input, snapshot, controller),
  })
}

/**
 * An approved example's SQL, checked now through the gate as this caller (its role and claims: the
 * schema or the role may have changed since approval) — and run, when asked. It passes: the
 * answer streams with no model call (`meta.verified`). It fails: the model answers as usual and
 * `meta.verified_fallback` says why.
 */
async function answerVerified(
  input: AnswerQuestionInput,
  snapshot: Snapshot,
  match: VerifiedMatch,
): Promise<{ stream: ReadableStream<Uint8Array> } | { fallback: NonNullable<MetaData['verified_fallback']> }> {
  const { config, body, log } = input
  const execute = body.execute === true
  // As a model's SQL comes out of its block: no trailing `;` (an approved example may be stored with one).
  const sql = match.sql.replace(/[\s;；]+$/u, '').trim()
  let outcome: Awaited<ReturnType<typeof guardSql>>
  try {
    outcome = await guardSql(config, sql, execute, input.dbIdentity)
  } catch (err) {
    return { fallback: { example_id: match.example.id, error: toAppError(err).message } }
  }
  if (!outcome.check.ok) return { fallback: { example_id: match.example.id, error: outcome.check.error } }
  input.onExamplesUsed?.({ prompted: [], verified: [match.example.id] })
  const checked = outcome
  const { model } = config.dashscope
  log.set({ model, verified: match.example.id })
  log.streaming = true
  const controller = new AbortController()
  const meta: MetaData = {
    ...baseMeta(input, snapshot, promptTableNames(snapshot, checked.relations)),
    verified: { example_id: match.example.id, approved_at: match.example.approved_at ?? null, ...(match.substituted ? { substituted: match.substituted } : {}) },
  }
  const swap = match.substituted ? `，${match.substituted.from} → ${match.substituted.to}` : ''
  // Restated like every answer (the old /getAnwser clients print it first), on one line: the
  // question is the caller's text and must not open a block of its own before the SQL's.
  const restated = `您的问题是：${body.question.replace(/\s+/g, ' ').trim()}`
  const text = `${restated}\n\n✓ 已验证的查询（示例 #${match.example.id}${swap}）\n\n\`\`\`sql\n${sql}\n\`\`\`\n`
  const stream = pipeAnswer(replayBody({ text }), {
    ...sharedOptions(input),
    protocol: 'openai',
    meta,
    afterAnswer: async (_found, emit) => {
      const after = await reportOutcome(sql, checked, false, guardEmit(emit, controller), {
        config,
        execute,
        ...(body.summarize ? { summarize: { question: body.question, stream: innerStreamer(input, controller, meta)(false) } } : {}),
        audit: (fields) => log.set(fields),
      })
      log.set({ sql_hash: (await sha256Hex(sql)).slice(0, 16) })
      return after
    },
    ...endOptions(input, snapshot, controller),
  })
  return { stream }
}

/** What every answer's `meta` says, whichever way it is answered: the request, the model, the schema, the tables. */
function baseMeta(input: AnswerQuestionInput, snapshot: Snapshot, tables: string[]): MetaData {
  return { request_id: input.requestId, model: input.config.dashscope.model, schema_version: snapshot.version, tables }
}

/**
 * The plan's relations (`schema.name`) named as the model path's `meta.tables` names them — as the
 * prompt shows them: unqualified when every table of the snapshot is in `public`.
 */
function promptTableNames(snapshot: Snapshot, relations: string[]): string[] {
  const omitPublic = snapshot.tables.every((t) => t.schema === 'public')
  return relations.map((r) => (omitPublic && r.startsWith('public.') ? r.slice('public.'.length) : r))
}

/**
 * A cached answer replayed: its reasoning and text as the model wrote them, no model call and no
 * tokens; its SQL checked again as this caller (no repair round: that would call the model) and
 * its rows run fresh when asked. `meta.cached` names the answer it replays.
 */
function answerCached(input: AnswerQuestionInput, snapshot: Snapshot, cached: CachedAnswer, checking: boolean): ReadableStream<Uint8Array> {
  const { config, body, log } = input
  const { model } = config.dashscope
  log.set({ model, cached_from: cached.request_id })
  log.streaming = true
  const controller = new AbortController()
  const meta: MetaData = {
    ...baseMeta(input, snapshot, cached.tables),
    ...(cached.examples ? { examples: cached.examples } : {}),
    ...(cached.glossary ? { glossary: cached.glossary } : {}),
    cached: { at: cached.at, request_id: cached.request_id },
  }
  return pipeAnswer(replayBody({ reasoning: cached.reasoning, text: cached.text }), {
    ...sharedOptions(input),
    protocol: 'openai',
    meta,
    afterAnswer: async (found, emit) => {
      const after = checking
        ? await verifyAnswer(found, guardEmit(emit, controller), {
            config: { ...config, sql: { ...config.sql, repair: false } },
            execute: body.execute === true,
            messages: [],
            streamRepair: async () => ({ found: null, usage: null }),
            ...(body.summarize ? { summarize: { question: body.question, stream: innerStreamer(input, controller, meta)(false) } } : {}),
            ...(input.dbIdentity ? { as: input.dbIdentity } : {}),
            audit: (fields) => log.set(fields),
          })
        : reportUnchecked(found, emit)
      log.set({ sql_hash: after.sql === null ? null : (await sha256Hex(after.sql)).slice(0, 16) })
      return after
    },
    ...endOptions(input, snapshot, controller),
  })
}

function sharedOptions(input: AnswerQuestionInput) {
  const { config } = input
  return {
    format: input.format,
    maxEventBytes: config.maxUpstreamEventBytes,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    heartbeatMs: config.heartbeatIntervalMs,
    startedAt: input.startedAt,
  }
}

/**
 * One more call streamed into the same response (the repair round, the summary); aborted with the
 * request. The summary never asks a thinking model to think: its reasoning is not shown.
 */
function innerStreamer(input: AnswerQuestionInput, controller: AbortController, meta: MetaData) {
  const { config } = input
  const { apiKey, baseUrl, model, protocol } = config.dashscope
  return (thinking: boolean) => async (messages: ChatMessage[], emit: Emit): Promise<InnerEnd> => {
    try {
      if (!apiKey) throw new AppError(503, 'upstream_not_configured', 'No DashScope API key is configured (set the DASHSCOPE_API_KEY secret)')
      const inner = await openUpstream(buildUpstreamRequest({ protocol, baseUrl, apiKey, model, messages, enableThinking: thinking }), {
        fetch: input.fetch,
        controller,
        headersTimeoutMs: config.upstreamIdleTimeoutMs,
      })
      let end: InnerEnd = { found: null, usage: null }
      const options: PipelineOptions = {
        ...sharedOptions(input),
        protocol,
        meta,
        innerEmit: emit,
        inner: (e) => {
          end = e
        },
        abortUpstream: () => controller.abort(),
      }
      const reader = pipeAnswer(inner.body!, options).getReader()
      while (!(await reader.read()).done) {
        // Draining drives the inner answer; its events were already emitted.
      }
      return end
    } catch (err) {
      const e = toAppError(err)
      return { found: null, usage: null, error: { type: 'error', code: e.code, message: e.message, retryable: e.retryable } }
    }
  }
}

/** How every streamed answer ends: tokens reported, the log line written, a client that leaves. */
function endOptions(input: AnswerQuestionInput, snapshot: Snapshot, controller: AbortController) {
  const { body, log } = input
  const spent = spendingReporter(input.onSpent)
  return {
    execute: body.execute === true,
    ...(body.summarize ? { summarize: true } : {}),
    onDone: (s: AnswerSummary) => {
      spent(s.usage)
      if (s.error_code === null) input.onAnswered?.({ sql: s.sql, schemaVersion: snapshot.version })
      log.flush({
        status: 200,
        ttft_ms: s.ttft_ms,
        total_ms: s.total_ms,
        input_tokens: s.usage?.input_tokens ?? null,
        output_tokens: s.usage?.output_tokens ?? null,
        finish_reason: s.finish_reason,
        error_code: s.error_code,
        sql_ok: s.sql_ok,
      })
    },
    abortUpstream: () => controller.abort(),
    clientSignal: input.clientSignal,
    onCancel: (_reason: unknown, usage: Usage | null) => {
      // We pay per token: stop the upstream the moment the client is gone.
      controller.abort()
      spent(usage)
      log.flush({ status: 200, finish_reason: 'client_closed', input_tokens: usage?.input_tokens ?? null, output_tokens: usage?.output_tokens ?? null })
    },
  }
}

/** meta → unanswerable → done, decided by linking before any upstream call (no tokens spent). */
function answerUnanswerable(input: AnswerQuestionInput, verdict: { closest: string[]; reason: string }): ReadableStream<Uint8Array> {
  const { config, snapshot } = input
  const encode = input.format === 'sse' ? encodeSse : encodeLegacyText
  const total = Date.now() - input.startedAt
  const items: StreamItem[] = [
    { event: 'meta', data: baseMeta(input, snapshot, []) },
    { event: 'unanswerable', data: { reason: verdict.reason, closest_tables: verdict.closest, source: 'linking' } },
    ...(input.body.execute ? [notRun('unanswerable', 'the question cannot be answered from this schema')] : []),
    ...(input.body.summarize ? [SKIPPED_SUMMARY] : []),
    { event: 'done', data: { finish_reason: 'unanswerable', ttft_ms: null, total_ms: total } },
  ]
  input.log.set({ model: config.dashscope.model })
  input.log.streaming = true
  input.onAnswered?.({ sql: null, schemaVersion: snapshot.version })
  input.log.flush({ status: 200, total_ms: total, finish_reason: 'unanswerable', error_code: null })
  const bytes = new TextEncoder().encode(items.map(encode).join(''))
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}

/** A question the schema cannot answer has no rows to explain: said once, where a summary would come. */
const SKIPPED_SUMMARY: StreamItem = { event: 'summary', data: { text: '', skipped: 'unanswerable' } }

/** Without a database the SQL goes out as the model wrote it. */
function reportUnchecked(found: ExtractedSql, emit: Emit): AfterAnswer {
  emit({ event: 'sql', data: uncheckedSqlData(found) })
  return { sql: found.ok ? found.sql : null, sqlOk: found.ok, usage: null }
}

/**
 * Reports totals as they become known, each token once: a client that leaves during the check
 * reports the first attempt's tokens, and the answer's end later adds the repair's.
 */
function spendingReporter(onSpent: ((spent: Usage) => void) | undefined): (total: Usage | null | undefined) => void {
  let input = 0
  let output = 0
  return (total) => {
    if (!onSpent || !total) return
    const more = { input_tokens: Math.max(0, total.input_tokens - input), output_tokens: Math.max(0, total.output_tokens - output), total_tokens: 0 }
    more.total_tokens = more.input_tokens + more.output_tokens
    if (more.total_tokens === 0) return
    input += more.input_tokens
    output += more.output_tokens
    onSpent(more)
  }
}

/** Once the client is gone, emitting throws: stop the repair upstream too. */
function guardEmit(emit: Emit, controller: AbortController): Emit {
  return (item) => {
    try {
      emit(item)
    } catch (err) {
      controller.abort()
      throw err
    }
  }
}
