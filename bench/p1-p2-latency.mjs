// P1 time to first byte and P2 per-event delay: the same client, reading the fake directly and
// through the worker, alternately, in one run.
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { BENCH_KEY } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

const QUESTION = '沈塘桥地铁站的信息'

/**
 * P1: TTFB. Direct: first byte of the upstream body. Worker: first byte (meta) and first delta.
 * With `passthrough` (a bare forwarding Worker in the same runtime), also its first byte: the
 * platform's own hop, so that ours minus it is what our code adds.
 */
export async function measureTtfb({ fake, worker, passthrough }, repetitions) {
  fake.setDefaultOptions('')
  const direct = []
  const meta = []
  const delta = []
  const bare = []
  for (let i = 0; i < repetitions; i++) {
    const d = await post(fake.url + NATIVE_PATH, nativeRequest(QUESTION), { headers: nativeHeaders(BENCH_KEY) })
    const w = await post(`${worker.url}/v1/ask`, { question: QUESTION }, { match: 'event: delta' })
    const p = passthrough ? await post(passthrough.url + NATIVE_PATH, nativeRequest(QUESTION), { headers: nativeHeaders(BENCH_KEY) }) : null
    if (d.status !== 200 || w.status !== 200 || (p && p.status !== 200)) throw new Error(`P1: status ${d.status}/${w.status}/${p?.status}`)
    direct.push(d.ttfb)
    meta.push(w.ttfb)
    delta.push(w.firstMatch)
    if (p) bare.push(p.ttfb)
  }
  return { direct: summary(direct), meta: summary(meta), delta: summary(delta), ...(passthrough ? { passthrough: summary(bare) } : {}) }
}

/**
 * P2: per-event delay from the fake's write (its clock is ours: same process) to the client's
 * read, events 20–50 ms apart. Also counts reads that carry two events upstream wrote ≥ 5 ms apart.
 */
export async function measureEventDelay({ fake, worker, passthrough }, streams) {
  const direct = []
  const through = []
  const bare = []
  let coalesced = 0
  let events = 0
  for (let i = 0; i < streams; i++) {
    // With `passthrough`, also the bare pass-through Worker: the platform's own per-event delay.
    for (const via of ['direct', 'worker', ...(passthrough ? ['passthrough'] : [])]) {
      const tag = `p2-${via}-${i}`
      const options = `pace=35,jitter=15,seed=${i + 1},tag=${tag}`
      const arrivals = [] // [epoch ms, number of answer events in that read]
      // Only the first attempt: when Postgres rejects the answer's SQL, a repair round would stream
      // a second answer (after `event: repair`) from a second upstream request with the same tag;
      // the client leaves there instead of waiting for it.
      const onChunk = (text) => {
        const cut = via === 'worker' ? text.indexOf('event: repair') : -1
        const n = count(cut >= 0 ? text.slice(0, cut) : text, via === 'worker' ? 'event: delta' : 'event:result')
        if (n > 0) arrivals.push([performance.timeOrigin + performance.now(), n])
        return cut >= 0 ? 'stop' : undefined
      }
      const res =
        via === 'worker'
          ? (fake.setDefaultOptions(options), await post(`${worker.url}/v1/ask`, { question: QUESTION }, { onChunk }))
          : await post(`${via === 'direct' ? fake.url : passthrough.url}/s/${options}${NATIVE_PATH}`, nativeRequest(QUESTION), { headers: nativeHeaders(BENCH_KEY), onChunk })
      if (res.status !== 200) throw new Error(`P2: status ${res.status}`)
      const writes = fake.records(tag)[0].write_times
      let k = 0
      for (const [at, n] of arrivals) {
        for (let j = 0; j < n && k < writes.length; j++, k++) {
          ;({ direct, worker: through, passthrough: bare })[via].push(at - writes[k])
          if (via === 'worker' && j > 0 && writes[k] - writes[k - 1] >= 5) coalesced++
        }
      }
      if (via === 'worker') events += k
    }
  }
  fake.setDefaultOptions('')
  return { direct: summary(direct), worker: summary(through), ...(passthrough ? { passthrough: summary(bare) } : {}), coalesced, events }
}

function count(text, needle) {
  let n = 0
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++
  return n
}
