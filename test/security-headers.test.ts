import { beforeEach, describe, expect, it } from 'vitest'
import { app } from '../src/app'
import { readEvents } from './support/streams'
import { ask, call, putDemoSnapshot } from './support/app'

// Every response of the Worker carries the security headers (docs/SECURITY.md, "Security headers");
// the static files' own are checked through wrangler dev (test/node/security-headers.test.ts).

function expectSecurityHeaders(res: Response, what: string) {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff')
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer')
  expect(res.headers.get('x-frame-options'), what).toBe('DENY')
  const csp = res.headers.get('content-security-policy') ?? ''
  for (const directive of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]) expect(csp, what).toContain(directive)
  // The API is used from other origins (the embed, MCP clients in a browser): CORS decides, not CORP.
  expect(res.headers.get('cross-origin-resource-policy'), what).toBeNull()
  expect(res.headers.get('cross-origin-opener-policy'), what).toBeNull()
}

/** Each route of the app as Hono holds it (not a hand-kept list), its parameters filled in. */
const routes = () =>
  app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, path: r.path.replace(/:(\w+)(\{[^}]*\})?/g, 'x').replace(/\*$/, 'x') }))

describe('security headers on the Worker\'s responses', () => {
  beforeEach(putDemoSnapshot)

  it('walks every route of the app, unauthenticated and as the admin: every answer carries them', async () => {
    const all = routes()
    expect(all.length).toBeGreaterThan(10)
    const seen = new Set<number>()
    for (const { method, path } of all) {
      for (const headers of [{}, { authorization: 'Bearer admin-token' }] as Record<string, string>[]) {
        const body = method === 'GET' || method === 'HEAD' ? undefined : '{}'
        const res = await call(path, { method, headers: { 'content-type': 'application/json', ...headers }, body }, { ADMIN_TOKEN: 'admin-token', API_KEYS: 'a-key' })
        await res.body?.cancel()
        seen.add(res.status)
        expectSecurityHeaders(res, `${method} ${path} → ${res.status}`)
      }
    }
    // Successes and refusals both (a walk that only met 401s would prove less).
    expect([...seen].some((s) => s < 300)).toBe(true)
    expect([...seen].some((s) => s >= 400)).toBe(true)
  })

  it('also on a 404, a 405, a CORS preflight and a HEAD', async () => {
    const responses = [
      await call('/no/such/path'),
      await call('/v1/ask', { method: 'PATCH' }),
      await call('/v1/ask', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } }, { CORS_ORIGINS: 'https://app.example' }),
      await call('/healthz', { method: 'HEAD' }),
    ]
    expect(responses.map((r) => r.status)).toEqual([404, 405, 204, 200])
    for (const res of responses) expectSecurityHeaders(res, `${res.status}`)
  })

  it('keeps an answer a stream: text/event-stream with the headers, events read through to done', async () => {
    const res = await ask({ question: '沈塘桥地铁站的信息' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expectSecurityHeaders(res, 'POST /v1/ask')
    const events = await readEvents(res.body!)
    expect(events.at(-1)?.event).toBe('done')
    expect(events.some((e) => e.event === 'delta')).toBe(true)
  })
})
