#!/usr/bin/env node
// What a short answer's local extras cost workerd under Miniflare, beside one JS stream: the same
// pass-through of a short answer (64 events, 2 ms apart) through one JavaScript stream, then with
// the one KV write our worker makes per answer (the feedback record, `kv`) or the one JSON log
// line (`log`). Locally both run in workerd's own process (Miniflare's KV simulator, the log pipe
// to Node) and so show in /proc; on Cloudflare the write is a subrequest and the line goes to
// Workers Logs. Prints CPU ms per answer (p50 of 5 rounds of 40, 4 at a time). Used for the
// explanation under "The bill" in BENCHMARKS.md.
//   node bench/short-answer-extras.mjs
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { startScriptWorker } from './lib/passthrough-worker.mjs'
import { BENCH_KEY, workerdCpuTicks } from './lib/service.mjs'
const SCRIPT = `
const RECORD = JSON.stringify({ question: '沈塘桥地铁站的信息', sql: 'SELECT * FROM stations WHERE name = 1', schema_version: 'pg-1234', caller: 'ip:abc', at: '2026-12-01T00:00:00.000Z' })
const LOG_LINE = { method: 'POST', path: '/v1/ask', question_chars: 9, model: 'qwen-plus', protocol: 'native', upstream_status: 200, total_ms: 141, status: 200, ttft_ms: 3, input_tokens: 1866, output_tokens: 63, finish_reason: 'stop', error_code: null, sql_ok: true }
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url)
    const [, mode, ...rest] = url.pathname.split('/')
    const upstream = await fetch(env.UPSTREAM + '/' + rest.join('/') + url.search, { method: request.method, headers: request.headers, body: request.body })
    const reader = upstream.body.getReader()
    const body = new ReadableStream({
      async pull(c) {
        const { done, value } = await reader.read()
        if (!done) return c.enqueue(value)
        c.close()
        // What our worker does once per answer, after its last event.
        if (mode === 'kv') ctx.waitUntil(env.KV.put('r:' + crypto.randomUUID(), RECORD, { expirationTtl: 86400 }))
        if (mode === 'log') console.log(JSON.stringify({ request_id: crypto.randomUUID(), ...LOG_LINE }))
      },
      cancel: (r) => reader.cancel(r),
    }, { highWaterMark: 0 })
    return new Response(body, { status: upstream.status, headers: upstream.headers })
  },
}`
const fake = await startFakeDashScope({ apiKey: BENCH_KEY })
const worker = await startScriptWorker({ name: 'extras', script: SCRIPT, env: { UPSTREAM: { type: 'text', value: fake.url }, KV: { type: 'kv', id: 'kv' } } })
const url = worker.url
async function ask(mode) {
  const r = await post(`${url}/${mode}/s/pace=2${NATIVE_PATH}`, nativeRequest(), { headers: nativeHeaders(BENCH_KEY) })
  if (r.status !== 200) throw new Error(String(r.status))
}
const res = { js: [], kv: [], log: [] }
const ROUNDS = 5
for (let round = 0; round < ROUNDS; round++) for (const m of Object.keys(res)) {
  await ask(m)
  const t0 = workerdCpuTicks(process.pid)
  let left = 40
  await Promise.all(Array.from({ length: 4 }, async () => { while (left-- > 0) await ask(m) }))
  res[m].push((workerdCpuTicks(process.pid) - t0) * 10 / 40)
}
for (const [m, v] of Object.entries(res)) console.log(m, v.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)].toFixed(2), 'ms/answer p50', v.map((x) => x.toFixed(1)).join(' '))
await worker.stop()
await fake.close()
