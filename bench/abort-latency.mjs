// Client-abort latency: a client reads a few events of an answer and leaves; how long until the
// upstream (the fake DashScope) sees its request closed? Upstream paced 20 ms and 1,000 ms per
// event, and stalled (`stall_at=5`: five events, then silence). The fake records `closed_at`
// (wall clock, like ours: it runs in this process) for a tagged request; the latency is
// closed_at − the moment the client destroyed its socket. A request not closed within the wait
// counts as "not closed" and enters the statistics as the wait itself (so p50/p99 are lower bounds).
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { BENCH_KEY } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

export const ABORT_CONDITIONS = [
  { name: 'paced 20 ms', options: 'pace=20,tokens=2000', read: 3, waitMs: 10_000 },
  { name: 'paced 1,000 ms', options: 'pace=1000', read: 3, waitMs: 15_000 },
  // Under our worker the heartbeat (HEARTBEAT_INTERVAL_MS, 15 s) is then the only write.
  { name: 'stalled after 5 events', options: 'stall_at=5', read: 5, waitMs: 40_000 },
]

/**
 * `via`: 'worker' (ours: POST /v1/ask, counting `event: delta`) or 'passthrough' (the bare Worker,
 * native protocol, counting `event:result`). The repetitions of one condition run at once, 200 ms
 * apart; each asks a question of its own so its upstream request can be told apart.
 */
export async function measureAbortLatency(service, { via = 'worker', reps = 5, conditions = ABORT_CONDITIONS } = {}) {
  const out = []
  for (const condition of conditions) {
    const tag = `abort-${via}-${condition.options.replace(/\W+/g, '')}-${Date.now()}`
    const options = `${condition.options},tag=${tag}`
    if (via === 'worker') service.fake.setDefaultOptions(options)
    try {
      const runs = await Promise.all(Array.from({ length: reps }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 200))
        return abortOne(service, via, condition, options, `${tag}-${i}`, i)
      }))
      const closed = runs.filter((r) => r.latency !== null)
      out.push({
        name: condition.name,
        via,
        reps,
        waitMs: condition.waitMs,
        notClosed: runs.length - closed.length,
        upstreamCompleted: runs.filter((r) => r.completed).length,
        latency: summary(runs.map((r) => r.latency ?? condition.waitMs)),
        closedLatency: summary(closed.map((r) => r.latency)),
      })
    } finally {
      if (via === 'worker') service.fake.setDefaultOptions('')
    }
  }
  return out
}

async function abortOne(service, via, condition, options, ownTag, i) {
  const marker = `（第${i + 1}问）`
  const question = `沈塘桥地铁站的信息${marker}`
  const needle = via === 'worker' ? 'event: delta' : 'event:result'
  let seen = 0
  let abortAt = null
  const onChunk = (text) => {
    seen += count(text, needle)
    if (seen < condition.read) return undefined
    abortAt = performance.timeOrigin + performance.now()
    return 'stop'
  }
  const res = via === 'worker'
    ? await post(`${service.worker.url}/v1/ask`, { question }, { onChunk, timeoutMs: 60_000 })
    : await post(`${service.passthrough.url}/s/${options.replace(/tag=[^,]+/, `tag=${ownTag}`)}${NATIVE_PATH}`, nativeRequest(question), { headers: nativeHeaders(BENCH_KEY), onChunk, timeoutMs: 60_000 })
  if (res.status !== 200 || abortAt === null) throw new Error(`abort latency (${via}, ${condition.name}): status ${res.status}, ${seen} events before the answer ended`)
  const tag = via === 'worker' ? options.match(/tag=([^,]+)/)[1] : ownTag
  const deadline = abortAt + condition.waitMs
  for (;;) {
    // As any client of the fake would: GET /__fake/requests/<tag> (the latest request of a tag);
    // ours share one tag per condition, so the record is found among all of them by its question.
    const record = via === 'worker'
      ? service.fake.records(tag).find((r) => JSON.stringify(r.body ?? '').includes(marker))
      : await (await fetch(`${service.fake.url}/__fake/requests/${encodeURIComponent(tag)}`)).json()
    if (record?.closed_at) return { latency: record.closed_at - abortAt }
    // The upstream finished the answer before the client's leaving reached it.
    if (record?.completed) return { latency: null, completed: true }
    if (Date.now() > deadline) return { latency: null }
    await new Promise((r) => setTimeout(r, 5))
  }
}

function count(text, needle) {
  let n = 0
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++
  return n
}
