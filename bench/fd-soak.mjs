// fd-soak: does the dev server hold on to file handles while answers stream through it? The fake
// DashScope writes each answer in byte-split pieces (`split=random`: 1–64 bytes, cut anywhere,
// inside characters too), 8 answers of ~2,000 events at once, then 200 one after another;
// workerd's open handles (/proc/<pid>/fd of every workerd below the server) are counted at idle
// before, after the concurrent batch and after the sequential ones, and every answer is checked
// complete: it ends with `done` (finish_reason `stop`) and its delta text is the whole answer.
// Target (issue 12): handles within 50 of idle, every answer complete.
//   npm run bench -- --only fd-soak [--quick]
import http from 'node:http'
import { composeAnswer } from '../tools/fake-dashscope/answers.mjs'
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { BENCH_KEY, workerdOpenFiles } from './lib/service.mjs'

// A connection per answer, closed with it: kept-alive client sockets would count as held handles.
const agent = new http.Agent({ keepAlive: false, maxSockets: 64 })
// Longer than the fake's keep-alive timeout (Node's 5 s), after which workerd's idle upstream
// connections are closed by the fake: what remains then is held by workerd itself.
const SETTLE_MS = 6000
const SETTLE_MAX_MS = 30_000

/** About 2,000 events of 1–4 characters (the fake's answer for the bench question). */
export const SOAK_TOKENS = 3130
const QUESTION = '沈塘桥地铁站的信息'

/**
 * `via`: 'worker' (ours, POST /v1/ask) or 'passthrough' (the bare Worker, native protocol).
 * Returns handle counts and per-answer verdicts; `incomplete` lists what was wrong with each bad one.
 */
export async function measureFdSoak(service, { via = 'worker', concurrent = 8, sequential = 200, tokens = SOAK_TOKENS, split = 'random', log = () => {} } = {}) {
  const target = via === 'worker' ? service.worker : service.passthrough
  const tag = `soak-${via}-${Date.now()}`
  const options = `tokens=${tokens},split=${split},tag=${tag}`
  const ask = via === 'worker' ? () => askWorker(target) : () => askPassthrough(target, options)
  if (via === 'worker') service.fake.setDefaultOptions(options)
  try {
    const idle = await settledCount(target.pid)
    let peak = idle
    const sampler = setInterval(() => (peak = Math.max(peak, workerdOpenFiles(target.pid))), 200)
    const answers = []
    let started = performance.now()
    try {
      answers.push(...(await Promise.all(Array.from({ length: concurrent }, ask))))
      const concurrentSeconds = (performance.now() - started) / 1000
      const afterConcurrent = await settledCount(target.pid)
      const peakConcurrent = peak
      log(`fd-soak (${via}): ${concurrent} concurrent in ${concurrentSeconds.toFixed(1)} s; handles idle ${idle}, peak ${peakConcurrent}, after ${afterConcurrent}`)
      started = performance.now()
      for (let i = 0; i < sequential; i++) answers.push(await ask())
      const sequentialSeconds = (performance.now() - started) / 1000
      const afterSequential = await settledCount(target.pid)
      const records = service.fake.records(tag)
      const expected = expectedText(via, records[0], tokens)
      const verdicts = answers.map((a) => judge(a, expected))
      const incomplete = verdicts.filter((v) => v !== 'ok')
      return {
        via,
        split,
        concurrent,
        sequential,
        eventsPerAnswer: records[0]?.events_sent ?? 0,
        upstreamRequests: records.length,
        idle,
        peakConcurrent,
        afterConcurrent,
        peak,
        afterSequential,
        concurrentSeconds,
        sequentialSeconds,
        answers: answers.length,
        complete: answers.length - incomplete.length,
        incomplete: [...new Set(incomplete)].slice(0, 5),
        // Not a streaming fault, but worth seeing: answers whose SQL check failed (repair round).
        repaired: answers.filter((a) => a.repair).length,
        repairErrors: [...new Set(answers.filter((a) => a.repair).map((a) => JSON.parse(a.repair).error))].slice(0, 3),
      }
    } finally {
      clearInterval(sampler)
    }
  } finally {
    if (via === 'worker') service.fake.setDefaultOptions('')
  }
}

/**
 * The handle count once idle connections had time to close: after SETTLE_MS, the median of five
 * samples, taken again every 2 s while it still falls (pooled sockets close on their own idle
 * timers), for at most SETTLE_MAX_MS. Both readings (after the concurrent answers and after the
 * sequential ones) settle the same way.
 */
async function settledCount(pid) {
  const median = async () => {
    const samples = []
    for (let i = 0; i < 5; i++) {
      samples.push(workerdOpenFiles(pid))
      await new Promise((r) => setTimeout(r, 100))
    }
    return samples.sort((a, b) => a - b)[2]
  }
  const deadline = Date.now() + SETTLE_MAX_MS
  await new Promise((r) => setTimeout(r, SETTLE_MS))
  let count = await median()
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000))
    const next = await median()
    if (next >= count) break
    count = next
  }
  return count
}

async function askWorker(worker) {
  let text = ''
  const r = await post(`${worker.url}/v1/ask`, { question: QUESTION }, { onChunk: (t) => void (text += t), timeoutMs: 300_000, agent })
  const events = parseSse(text)
  const done = events.at(-1)
  // The first answer's text: a repair round (the SQL check refused the SQL) streams a second one.
  const repairAt = events.findIndex((e) => e.event === 'repair')
  return {
    status: r.status,
    text: events.slice(0, repairAt >= 0 ? repairAt : events.length).filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data).text).join(''),
    finish: done?.event === 'done' ? JSON.parse(done.data).finish_reason : `last event ${done?.event}`,
    errors: events.filter((e) => e.event === 'error').map((e) => `${e.event} ${e.data}`),
    repair: repairAt >= 0 ? events[repairAt].data : null,
  }
}

async function askPassthrough(passthrough, options) {
  let text = ''
  const r = await post(`${passthrough.url}/s/${options}${NATIVE_PATH}`, nativeRequest(QUESTION), { headers: nativeHeaders(BENCH_KEY), onChunk: (t) => void (text += t), timeoutMs: 300_000, agent })
  const chunks = parseSse(text).filter((e) => e.event === 'result').map((e) => JSON.parse(e.data).output.choices[0])
  return {
    status: r.status,
    text: chunks.map((c) => c.message.content).join(''),
    finish: chunks.at(-1)?.finish_reason ?? 'no events',
    errors: parseSse(text).filter((e) => e.event === 'error').map((e) => `error ${e.data}`),
  }
}

/** What the fake answered: derived from the user message the upstream request carried. */
function expectedText(via, record, tokens) {
  const messages = record?.body?.input?.messages ?? []
  const user = String(messages.filter((m) => m.role === 'user').at(-1)?.content ?? (via === 'passthrough' ? QUESTION : ''))
  return [...composeAnswer(user, { tokens }).text()].join('')
}

function judge(answer, expected) {
  if (answer.status !== 200) return `status ${answer.status}`
  if (answer.errors.length) return answer.errors[0].slice(0, 200)
  if (answer.finish !== 'stop') return `finish_reason ${answer.finish}`
  if (answer.text !== expected) return `text differs: ${answer.text.length} of ${expected.length} characters, first difference at ${firstDifference(answer.text, expected)}`
  return 'ok'
}

function firstDifference(a, b) {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

/** Splits an SSE body into { event, data } (one data line per event, as both protocols here write). */
export function parseSse(text) {
  const out = []
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event = 'message'
    let data = null
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data = line.slice(5).trim()
    }
    if (data !== null) out.push({ event, data })
  }
  return out
}
