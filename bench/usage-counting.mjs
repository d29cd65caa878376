// Usage kept always (issue 32): what counting each request costs an answer. Two services under
// `wrangler dev` on the same fake DashScope, asked alternately: DAILY_TOKEN_BUDGET=0 (the request
// counted by a USAGE call the answer does not wait for) and a budget no caller reaches (the
// admission awaited before DashScope is called, as before). The difference in time to the first
// event is what the awaited Durable Object call costs; the background count should cost nothing.
// Run: node bench/usage-counting.mjs [asks=40]
import { post } from './lib/http-client.mjs'
import { startService } from './lib/service.mjs'
import { fmt, summary } from './lib/stats.mjs'

const asks = Number(process.argv[2] ?? 40)
const background = await startService({ DAILY_TOKEN_BUDGET: '0', ADMIN_TOKEN: 'bench-admin' }, { passthrough: false })
const awaited = await startService({ DAILY_TOKEN_BUDGET: '1000000000', ADMIN_TOKEN: 'bench-admin' }, { passthrough: false })
try {
  const times = { background: [], awaited: [] }
  const ask = async (name, service) => {
    const r = await post(`${service.worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { match: 'event: meta' })
    if (r.status !== 200) throw new Error(`${name}: status ${r.status}`)
    times[name].push(r.firstMatch)
  }
  // Warm both (first isolate, first Durable Object instantiation) before measuring.
  for (let i = 0; i < 3; i++) await Promise.all([ask('background', background), ask('awaited', awaited)])
  times.background.length = times.awaited.length = 0
  for (let i = 0; i < asks; i++) {
    await ask('background', background)
    await ask('awaited', awaited)
  }
  const report = await (await fetch(`${background.worker.url}/v1/admin/usage`, { headers: { authorization: 'Bearer bench-admin' } })).json()
  const counted = report.keys.reduce((n, k) => n + k.requests, 0)
  for (const [name, values] of Object.entries(times)) {
    const s = summary(values)
    console.log(`${name.padEnd(10)} time to meta: p50 ${fmt(s.p50)} ms  p90 ${fmt(s.p90)} ms  p99 ${fmt(s.p99)} ms  (n=${s.n})`)
  }
  console.log(`requests counted without a budget: ${counted} of ${asks + 3}`)
} finally {
  await Promise.allSettled([background.stop(), awaited.stop()])
}
