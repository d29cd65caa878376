import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

// The per-key limits as a user turns them on: `npm start` with RATE_LIMIT_ENABLED and a daily
// token budget, Cloudflare's Rate Limiting binding and the USAGE Durable Object as wrangler dev
// runs them (the workers tests drive the same code in workerd; this is the runtime users start).
let server: DevServer
const ADMIN = 'admin-token-for-limits-test'
const KEYS = ['limits-key-one', 'limits-key-two']
/** About two of the fake's short answers (~1,900 tokens each): the third is over budget. */
const BUDGET = 3000

const ask = (key: string, body: unknown = { question: '沈塘桥地铁站的信息' }) =>
  fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) })

beforeAll(async () => {
  server = await startDevServer({ API_KEYS: KEYS.join(','), ADMIN_TOKEN: ADMIN, RATE_LIMIT_ENABLED: 'true', DAILY_TOKEN_BUDGET: String(BUDGET), SQL_CHECK: 'false' })
}, 120_000)

afterAll(async () => {
  await server?.stop()
})

describe('per-key limits under npm start', () => {
  it('answers within the budget, refuses over it with quota_exceeded, then rate-limits the 61st request of the minute; the admin sees both by hash', async () => {
    const [key, other] = KEYS as [string, string]
    // The limiter counts per window of 60 s: start well inside one (the test takes a few seconds).
    const left = 60 - ((Date.now() / 1000) % 60)
    if (left < 20) await new Promise((r) => setTimeout(r, left * 1000 + 200))
    let spent = 0
    let answered = 0
    let status = 200
    // Answers until the budget is used up: each admission sees the tokens of the answers before it.
    while (status === 200) {
      const res = await ask(key)
      status = res.status
      if (status !== 200) {
        expect(status).toBe(429)
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('quota_exceeded')
        break
      }
      const usage = (await readEvents(res.body!)).find((e) => e.event === 'usage')!.data as { total_tokens: number }
      spent += usage.total_tokens
      answered++
      expect(answered).toBeLessThan(10)
    }
    expect(spent).toBeGreaterThanOrEqual(BUDGET)
    expect(answered).toBe(Math.ceil(BUDGET / (spent / answered)))

    // Every request counts toward the minute's 60, refused ones too (over budget: refused at once).
    const sent = answered + 1
    for (let i = sent; i < 60; i++) {
      const res = await ask(key)
      expect(res.status).toBe(429)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('quota_exceeded')
    }
    const limited = await ask(key)
    expect(limited.status).toBe(429)
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)

    // Another key has its own minute and its own budget.
    const fresh = await ask(other)
    expect(fresh.status).toBe(200)
    await readEvents(fresh.body!)

    const report = (await (await fetch(`${server.url}/v1/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { rate_limit: boolean; daily_token_budget: number; keys: { id: string; requests: number; refused: number; tokens: number }[] }
    expect(report).toMatchObject({ rate_limit: true, daily_token_budget: BUDGET })
    expect(report.keys).toHaveLength(2)
    expect(report.keys.map((k) => k.tokens).sort((a, b) => a - b)[1]).toBe(spent)
    expect(report.keys.find((k) => k.tokens === spent)).toMatchObject({ requests: answered, refused: 60 - answered })
    for (const k of KEYS) expect(JSON.stringify(report)).not.toContain(k)
  }, 60_000)
})
