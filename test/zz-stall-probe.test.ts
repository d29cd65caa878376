import { beforeAll, expect, it } from 'vitest'
import { ask, fakeUrl, putDemoSnapshot } from './support/app'

beforeAll(putDemoSnapshot)

it('probe: events written before a stall reach the client', async () => {
  const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_BASE_URL: fakeUrl('stall_at=3,tokens=2000'), HEARTBEAT_INTERVAL_MS: '500', UPSTREAM_IDLE_TIMEOUT_MS: '3000' })
  const reader = res.body!.getReader()
  const dec = new TextDecoder()
  const t0 = Date.now()
  const got: string[] = []
  for (;;) {
    const r = await reader.read()
    if (r.done) break
    got.push(`${Date.now() - t0} ${r.value.length} ${JSON.stringify(dec.decode(r.value)).slice(0, 60)}`)
  }
  console.log(got.join('\n'))
  expect(got.join('')).toContain('delta')
})
