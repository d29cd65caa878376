// P4 throughput of one stream with upstream as fast as it goes, and P5 the worker's memory while
// a 100 MB answer streams through it.
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { BENCH_KEY, workerdRssKiB } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

/**
 * P4: events/s and MB/s, direct vs through the worker, same answer (tokens pieces of 1–4 chars).
 * With `passthrough` (Miniflare), also through a bare pass-through Worker and one that moves the
 * bytes through a JavaScript stream: the platform's floors, for the breakdown.
 */
export async function measureThroughput(service, repetitions, tokens = 40_000) {
  return summarizeThroughput([await throughputSamples(service, repetitions, tokens)])
}

/** The raw rates of `repetitions` streams; several runs (fresh workers) combine in summarizeThroughput. */
export async function throughputSamples({ fake, worker, passthrough }, repetitions, tokens = 40_000) {
  const options = `tokens=${tokens},batch=20`
  const out = { direct: [], worker: [], passthrough: [], jsStream: [], directMB: 0, workerMB: 0, tokens }
  const rate = async (url) => {
    let events = 0
    const r = await post(`${url}/s/${options}${NATIVE_PATH}`, nativeRequest(), { headers: nativeHeaders(BENCH_KEY), onChunk: (t) => (events += count(t, 'event:result')) })
    return { perSecond: events / (r.end / 1000), MBs: r.bytes / 1e6 / (r.end / 1000) }
  }
  for (let i = 0; i < repetitions; i++) {
    const d = await rate(fake.url)
    fake.setDefaultOptions(options)
    let workerEvents = 0
    const w = await post(`${worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { onChunk: (t) => (workerEvents += count(t, 'event: delta')) })
    fake.setDefaultOptions('')
    out.direct.push(d.perSecond)
    out.worker.push(workerEvents / (w.end / 1000))
    out.directMB = d.MBs
    out.workerMB = w.bytes / 1e6 / (w.end / 1000)
    if (passthrough) {
      out.passthrough.push((await rate(passthrough.url)).perSecond)
      out.jsStream.push((await rate(`${passthrough.url}/js`)).perSecond)
    }
  }
  return out
}

export function summarizeThroughput(runs) {
  const all = (k) => runs.flatMap((r) => r[k])
  const direct = all('direct')
  const ratioTo = (values) => summary(values.map((v, i) => v / direct[i]))
  const last = runs.at(-1)
  return {
    direct: summary(direct),
    worker: summary(all('worker')),
    ratio: ratioTo(all('worker')),
    directMB: last.directMB,
    workerMB: last.workerMB,
    tokens: last.tokens,
    ...(all('passthrough').length ? { passthrough: ratioTo(all('passthrough')), jsStream: ratioTo(all('jsStream')) } : {}),
  }
}

/** P5: RSS of the workerd processes idle, then sampled while ~targetBytes of SSE pass through. */
export async function measureMemory({ fake, worker }, targetBytes = 100e6) {
  // 1,000 characters per event: ~3 KB of SSE each, so 100 MB takes ~33,000 events.
  fake.setDefaultOptions(bulkOptions(targetBytes))
  try {
    return await sampleRss(worker.pid, () => post(`${worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { timeoutMs: 600_000 }))
  } finally {
    fake.setDefaultOptions('')
  }
}

/** P5's floor: the same answer through a bare pass-through Worker (bytes never enter JavaScript). */
export async function measurePassthroughMemory({ passthrough }, targetBytes = 100e6) {
  return sampleRss(passthrough.pid, () => post(`${passthrough.url}/s/${bulkOptions(targetBytes)}${NATIVE_PATH}`, nativeRequest(), { headers: nativeHeaders(BENCH_KEY), timeoutMs: 600_000 }))
}

const bulkOptions = (targetBytes) => `tokens=${Math.ceil((targetBytes / 3) * (1 / 1.5))},piece=1000,batch=20`

async function sampleRss(pid, request) {
  await new Promise((r) => setTimeout(r, 1000))
  const idleSamples = []
  for (let i = 0; i < 10; i++) {
    idleSamples.push(workerdRssKiB(pid))
    await new Promise((r) => setTimeout(r, 100))
  }
  const idle = Math.max(...idleSamples)
  let peak = idle
  const sampler = setInterval(() => (peak = Math.max(peak, workerdRssKiB(pid))), 100)
  const res = await request().finally(() => clearInterval(sampler))
  if (res.status !== 200) throw new Error(`P5: status ${res.status}`)
  return { idleMiB: idle / 1024, peakMiB: peak / 1024, growthMiB: (peak - idle) / 1024, streamedMB: res.bytes / 1e6, seconds: res.end / 1000 }
}

function count(text, needle) {
  let n = 0
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++
  return n
}
