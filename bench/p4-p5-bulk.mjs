// P4 throughput of one stream with upstream as fast as it goes, and P5 the worker's memory while
// a 100 MB answer streams through it.
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { BENCH_KEY, workerdRssKiB } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

/** P4: events/s and MB/s, direct vs through the worker, same answer (tokens pieces of 1–4 chars). */
export async function measureThroughput({ fake, worker }, repetitions, tokens = 40_000) {
  const options = `tokens=${tokens},batch=20`
  const direct = []
  const through = []
  let directMB = 0
  let workerMB = 0
  for (let i = 0; i < repetitions; i++) {
    let directEvents = 0
    const d = await post(`${fake.url}/s/${options}${NATIVE_PATH}`, nativeRequest(), { headers: nativeHeaders(BENCH_KEY), onChunk: (t) => (directEvents += count(t, 'event:result')) })
    fake.setDefaultOptions(options)
    let workerEvents = 0
    const w = await post(`${worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { onChunk: (t) => (workerEvents += count(t, 'event: delta')) })
    fake.setDefaultOptions('')
    direct.push(directEvents / (d.end / 1000))
    through.push(workerEvents / (w.end / 1000))
    directMB = d.bytes / 1e6 / (d.end / 1000)
    workerMB = w.bytes / 1e6 / (w.end / 1000)
  }
  const ratio = through.map((t, i) => t / direct[i])
  return { direct: summary(direct), worker: summary(through), ratio: summary(ratio), directMB, workerMB, tokens }
}

/** P5: RSS of the workerd processes idle, then sampled while ~100 MB of SSE passes through. */
export async function measureMemory({ fake, worker }, targetBytes = 100e6) {
  await new Promise((r) => setTimeout(r, 1000))
  const idleSamples = []
  for (let i = 0; i < 10; i++) {
    idleSamples.push(workerdRssKiB(worker.pid))
    await new Promise((r) => setTimeout(r, 100))
  }
  const idle = Math.max(...idleSamples)
  // 1,000 characters per event: ~3 KB of SSE each, so 100 MB takes ~33,000 events.
  const piece = 1000
  const tokens = Math.ceil((targetBytes / 3) * (1 / 1.5)) // ≈ characters / 1.5
  fake.setDefaultOptions(`tokens=${tokens},piece=${piece},batch=20`)
  let peak = idle
  const sampler = setInterval(() => (peak = Math.max(peak, workerdRssKiB(worker.pid))), 100)
  const res = await post(`${worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { timeoutMs: 600_000 })
  clearInterval(sampler)
  fake.setDefaultOptions('')
  if (res.status !== 200) throw new Error(`P5: status ${res.status}`)
  return { idleMiB: idle / 1024, peakMiB: peak / 1024, growthMiB: (peak - idle) / 1024, streamedMB: res.bytes / 1e6, seconds: res.end / 1000 }
}

function count(text, needle) {
  let n = 0
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++
  return n
}
