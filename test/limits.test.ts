import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { callerKeyOf } from '../src/usage/caller-key'
import { secondsToNextUtcDay, secondsToWindowEnd, utcDay } from '../src/usage/windows'
import { call, fakeRecord, fakeUrl, putDemoSnapshot } from './support/app'
import { readEvents } from './support/streams'

beforeAll(putDemoSnapshot)

const ADMIN = 'admin-secret'
/** A caller key of its own per test: the limiter and the usage store persist across tests. */
const newKey = () => `k-${crypto.randomUUID()}`

type ErrorJson = { error: { code: string; message: string } }
type UsageReport = { day: string; rate_limit: boolean; daily_token_budget: number; tracking: boolean; keys: { id: string; requests: number; refused: number; input_tokens: number; output_tokens: number; tokens: number }[] }

function askAs(key: string, body: unknown, vars: Record<string, string | undefined>, headers: Record<string, string> = {}) {
  return call(
    '/v1/ask',
    { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) },
    { API_KEYS: `other,${key}`, ...vars },
  )
}

async function usageReport(vars: Record<string, string | undefined> = {}, query = ''): Promise<UsageReport> {
  const res = await call(`/v1/admin/usage${query}`, { headers: { authorization: `Bearer ${ADMIN}` } }, { ADMIN_TOKEN: ADMIN, ...vars })
  expect(res.status).toBe(200)
  return (await res.json()) as UsageReport
}

/** Usage is recorded after the answer (waitUntil): wait until the key's row shows tokens. */
async function tokensOf(key: string, atLeast = 1): Promise<UsageReport['keys'][number]> {
  const id = await callerKeyOf(`Bearer ${key}`, true, undefined)
  for (let i = 0; i < 100; i++) {
    const row = (await usageReport()).keys.find((k) => k.id === id)
    if (row && row.tokens >= atLeast) return row
    await new Promise((r) => setTimeout(r, 30))
  }
  throw new Error(`no tokens recorded for ${id}`)
}

/** A fixed one-minute window must not roll over in the middle of a test that fills it. */
async function awayFromMinuteEnd(): Promise<void> {
  const left = secondsToWindowEnd(Date.now(), 60)
  if (left < 15) await new Promise((r) => setTimeout(r, left * 1000 + 200))
}

describe('requests per minute per caller key (the Rate Limiting binding)', () => {
  it('with RATE_LIMIT_ENABLED, the 61st request of a key within a minute is 429 rate_limited with retry-after; another key is not limited', async () => {
    await awayFromMinuteEnd()
    const key = newKey()
    const vars = { RATE_LIMIT_ENABLED: 'true' }
    // Any request counts, also one refused later for its body: these are cheap to send.
    for (let i = 0; i < 60; i++) expect((await askAs(key, {}, vars)).status).toBe(400)
    const refused = await askAs(key, { question: '沈塘桥地铁站的信息' }, vars)
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(((await refused.json()) as ErrorJson).error.code).toBe('rate_limited')

    const other = await askAs(newKey(), { question: '沈塘桥地铁站的信息' }, vars)
    expect(other.status).toBe(200)
    await readEvents(other.body!)
  })

  it('is off by default: the binding is not asked', async () => {
    const limiter = { limit: async () => ({ success: false }) }
    const res = await askAs(newKey(), { question: '沈塘桥地铁站的信息' }, { ASK_RATE_LIMIT: limiter } as never)
    expect(res.status).toBe(200)
    await readEvents(res.body!)
  })

  it('refuses /getAnwser too, as the old contract\'s text line with retry-after', async () => {
    const limiter = { limit: async () => ({ success: false }) }
    const res = await call(
      '/getAnwser',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) },
      { RATE_LIMIT_ENABLED: 'true', ASK_RATE_LIMIT: limiter } as never,
    )
    expect(res.status).toBe(429)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await res.text()).toMatch(/^Error: Too many requests/)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })

  it('counts a hash of the bearer key, never the key; without API_KEYS the client IP, hashed; else one anonymous bucket', async () => {
    const seen: string[] = []
    const limiter = { limit: async ({ key }: { key: string }) => (seen.push(key), { success: true }) }
    const key = newKey()
    const vars = { RATE_LIMIT_ENABLED: 'true', ASK_RATE_LIMIT: limiter } as never
    for (const res of [
      await askAs(key, { question: 'x' }, vars),
      await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.7' }, body: '{}' }, vars),
      await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.8' }, body: '{}' }, vars),
      await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, vars),
    ]) await res.body?.cancel()
    expect(seen).toHaveLength(4)
    expect(seen[0]).toMatch(/^key:[0-9a-f]{24}$/)
    expect(seen[0]).not.toContain(key)
    expect(seen[1]).toMatch(/^ip:[0-9a-f]{24}$/)
    expect(seen[1]).not.toContain('203.0.113')
    expect(seen[2]).toMatch(/^ip:[0-9a-f]{24}$/)
    expect(seen[2]).not.toBe(seen[1])
    expect(seen[3]).toBe('anonymous')
  })

  it('a wrong key is refused (401) before it counts', async () => {
    const seen: string[] = []
    const limiter = { limit: async ({ key }: { key: string }) => (seen.push(key), { success: true }) }
    const res = await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: '{}' }, { API_KEYS: 'right', RATE_LIMIT_ENABLED: 'true', ASK_RATE_LIMIT: limiter } as never)
    expect(res.status).toBe(401)
    expect(seen).toEqual([])
  })
})

describe('a daily token budget per caller key (the USAGE Durable Object)', () => {
  it('over budget → 429 quota_exceeded before DashScope is called, retry-after at 00:00 UTC', async () => {
    const key = newKey()
    const vars = { DAILY_TOKEN_BUDGET: '100' }
    const first = await askAs(key, { question: '沈塘桥地铁站的信息' }, vars)
    const events = await readEvents(first.body!)
    const usage = events.find((e) => e.event === 'usage')!.data as { input_tokens: number; output_tokens: number }
    const row = await tokensOf(key)
    expect(row).toMatchObject({ requests: 1, refused: 0, input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, tokens: usage.input_tokens + usage.output_tokens })

    const tag = `quota-${crypto.randomUUID()}`
    const refused = await askAs(key, { question: '沈塘桥地铁站的信息' }, { ...vars, DASHSCOPE_BASE_URL: fakeUrl(`tag=${tag}`) })
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as ErrorJson).error.code).toBe('quota_exceeded')
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(Math.abs(retryAfter - secondsToNextUtcDay(Date.now()))).toBeLessThanOrEqual(5)
    expect((await fakeRecord(tag)).seen).toBe(false)
    expect(await tokensOf(key)).toMatchObject({ requests: 1, refused: 1 })

    // A bigger budget admits the key again: the budget is read per request, the usage is kept.
    const again = await askAs(key, { question: '沈塘桥地铁站的信息' }, { DAILY_TOKEN_BUDGET: '1000000' })
    expect(again.status).toBe(200)
    await readEvents(again.body!)
  })

  it('records the tokens of both protocols as DashScope reports them', async () => {
    for (const protocol of ['native', 'openai']) {
      const key = newKey()
      const res = await askAs(key, { question: '1号线有哪些站' }, { DAILY_TOKEN_BUDGET: '1000000', DASHSCOPE_PROTOCOL: protocol })
      const usage = (await readEvents(res.body!)).find((e) => e.event === 'usage')!.data as { total_tokens: number }
      expect((await tokensOf(key)).tokens).toBe(usage.total_tokens)
    }
  })

  it('records the tokens of an answer that ended with an error after some tokens (and reports them in `usage`)', async () => {
    const key = newKey()
    const res = await askAs(key, { question: '沈塘桥地铁站的信息' }, { DAILY_TOKEN_BUDGET: '1000000', DASHSCOPE_BASE_URL: fakeUrl('error_at=5') })
    const events = await readEvents(res.body!)
    expect(events.slice(-3).map((e) => e.event)).toEqual(['usage', 'error', 'done'])
    const usage = events.at(-3)!.data as { input_tokens: number; output_tokens: number; total_tokens: number }
    expect(usage.output_tokens).toBeGreaterThan(0)
    expect(await tokensOf(key)).toMatchObject({ input_tokens: usage.input_tokens, output_tokens: usage.output_tokens })
  })

  it('records the tokens known when the client leaves mid-answer (native usage is cumulative)', async () => {
    const key = newKey()
    const tag = `leave-${crypto.randomUUID()}`
    const res = await askAs(key, { question: '沈塘桥地铁站的信息' }, { DAILY_TOKEN_BUDGET: '1000000', DASHSCOPE_BASE_URL: fakeUrl(`pace=20,tag=${tag}`) })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while ((text.match(/event: delta/g) ?? []).length < 3) text += decoder.decode((await reader.read()).value!, { stream: true })
    await reader.cancel()
    const row = await tokensOf(key)
    expect(row.input_tokens).toBeGreaterThan(0)
    expect(row.output_tokens).toBeGreaterThan(0)
  })

  it('is exact when many questions of one key arrive at once: each admission sees the tokens before it', async () => {
    const usage = env.USAGE.getByName('usage')
    const caller = `test:${crypto.randomUUID()}`
    const day = '2030-01-01'
    await usage.record(caller, day, 90, 0)
    const admissions = await Promise.all(Array.from({ length: 20 }, () => usage.admit(caller, day, 100)))
    expect(admissions.every((a) => a.ok && a.tokens === 90)).toBe(true)
    await Promise.all(Array.from({ length: 20 }, () => usage.record(caller, day, 1, 0)))
    expect(await usage.admit(caller, day, 100)).toEqual({ ok: false, tokens: 110 })
    expect((await usage.report(day)).find((r) => r.id === caller)).toEqual({ id: caller, name: null, requests: 20, refused: 1, input_tokens: 110, output_tokens: 0, tokens: 110 })
    // The next day starts from nothing.
    expect(await usage.admit(caller, '2030-01-02', 100)).toEqual({ ok: true, tokens: 0 })
  })

  it('without a budget the answer never waits for the Durable Object: one that fails refuses nothing', async () => {
    const fail = () => Promise.reject(new Error('usage store down'))
    const broken = { getByName: () => ({ admit: fail, tally: fail, record: fail }) }
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await askAs(newKey(), { question: '沈塘桥地铁站的信息' }, { USAGE: broken } as never)
    expect(res.status).toBe(200)
    expect((await readEvents(res.body!)).map((e) => e.event)).toContain('done')
    // Counted in the background, and its failure said in the log, not to the caller.
    await vi.waitFor(() => expect(errors.mock.calls.map(String).join('\n')).toMatch(/request not counted/))
    errors.mockRestore()
  })
})

describe('GET /v1/admin/usage', () => {
  it('lists each key by its hash with requests and tokens today, never a key', async () => {
    const key = newKey()
    const res = await askAs(key, { question: '沈塘桥地铁站的信息' }, { DAILY_TOKEN_BUDGET: '1000000' })
    await readEvents(res.body!)
    await tokensOf(key)
    const report = await usageReport({ DAILY_TOKEN_BUDGET: '1000000' })
    expect(report).toMatchObject({ day: utcDay(Date.now()), rate_limit: false, daily_token_budget: 1000000, tracking: true })
    const id = await callerKeyOf(`Bearer ${key}`, true, undefined)
    expect(report.keys.find((k) => k.id === id)).toMatchObject({ requests: 1, refused: 0, tokens: expect.any(Number) })
    expect(JSON.stringify(report)).not.toContain(key)
  })

  it('reads another day with ?day=, and refuses a malformed one', async () => {
    expect((await usageReport({}, '?day=1999-12-31')).keys).toEqual([])
    expect((await usageReport({}, '?day=2028-02-29')).day).toBe('2028-02-29')
    // Shaped like a date but no day of the calendar: as malformed as "yesterday".
    for (const day of ['yesterday', '2026-02-30', '2026-04-31', '2027-02-29', '2026-13-01', '2026-00-10', '2026-1-5']) {
      const bad = await call(`/v1/admin/usage?day=${day}`, { headers: { authorization: `Bearer ${ADMIN}` } }, { ADMIN_TOKEN: ADMIN })
      expect(bad.status, day).toBe(400)
      expect(((await bad.json()) as ErrorJson).error.code).toBe('invalid_request')
    }
  })

  it('needs the admin token; other methods are 405', async () => {
    expect((await call('/v1/admin/usage', {}, { ADMIN_TOKEN: ADMIN })).status).toBe(401)
    expect((await call('/v1/admin/usage', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(401)
    const post = await call('/v1/admin/usage', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } }, { ADMIN_TOKEN: ADMIN })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })
})

describe('the windows behind retry-after', () => {
  it.each([
    ['just after a minute starts', Date.UTC(2026, 0, 1, 10, 0, 0, 1), 60, 60],
    ['in the last second of a minute', Date.UTC(2026, 0, 1, 10, 0, 59, 500), 60, 1],
    ['half-way through a 10 s window', Date.UTC(2026, 0, 1, 10, 0, 5), 10, 5],
  ])('%s', (_name, ms, period, expected) => {
    expect(secondsToWindowEnd(ms, period)).toBe(expected)
  })

  it('daily budgets roll over at 00:00 UTC', () => {
    expect(utcDay(Date.UTC(2026, 11, 1, 23, 59, 59))).toBe('2026-12-01')
    expect(secondsToNextUtcDay(Date.UTC(2026, 11, 1, 23, 59, 0))).toBe(60)
    expect(secondsToNextUtcDay(Date.UTC(2026, 11, 1, 0, 0, 0))).toBe(86_400)
  })
})
