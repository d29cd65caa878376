// P6: 1,000 streams opened at once through one local worker, against the same 1,000 directly.
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { BENCH_KEY } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

export async function measureConcurrency({ fake, worker, passthrough }, streams = 1000) {
  const options = 'batch=100,answer=' + encodeURIComponent('您的问题是：沈塘桥地铁站的信息\n\n```sql\nSELECT * FROM stations WHERE name LIKE \'%沈塘桥%\'\n```')
  const run = async (one) => {
    const results = await Promise.allSettled(Array.from({ length: streams }, one))
    const ok = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).map((r) => r.value)
    const complete = ok.filter((r) => r.complete !== false)
    return { errors: streams - complete.length, ttfb: summary(complete.map((r) => r.firstMatch ?? r.ttfb)), total: summary(complete.map((r) => r.end)), firstError: results.find((r) => r.status === 'rejected')?.reason?.message }
  }
  const direct = await run(() => post(`${fake.url}/s/${options}${NATIVE_PATH}`, nativeRequest(), { headers: nativeHeaders(BENCH_KEY) }))
  fake.setDefaultOptions(options)
  const through = await run(async () => {
    let text = ''
    const r = await post(`${worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { match: 'event: delta', onChunk: (t) => (text += t) })
    return { ...r, complete: text.includes('event: done') && !text.includes('event: error') }
  })
  fake.setDefaultOptions('')
  // The same 1,000 through the bare pass-through Worker: what the runtime alone does with them.
  const bare = passthrough ? await run(() => post(`${passthrough.url}/s/${options}${NATIVE_PATH}`, nativeRequest(), { headers: nativeHeaders(BENCH_KEY) })) : undefined
  return { streams, direct, worker: through, ...(bare ? { passthrough: bare } : {}) }
}
