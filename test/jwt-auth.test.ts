import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { saveSnapshot } from '../src/schema/snapshot-store'
import { ask, call, fakeRecord, fakeUrl, putDemoSnapshot } from './support/app'
import { readEvents, readText } from './support/streams'
import { bearer, epochSeconds, hsToken, jwksControl, jwksHits, jwksUrl, JWT_SECRET, providerToken } from './support/tokens'

// Identity only (what a caller may see is test/roles.test.ts): the demo snapshot, recording that
// `analyst` may read every table and `sales_rep` only lines and stations.
const ROLES = [
  { name: 'analyst', tables: demoSnapshot.tables.map((t) => ({ schema: t.schema, name: t.name })) },
  { name: 'sales_rep', tables: [{ schema: 'public', name: 'lines' }, { schema: 'public', name: 'stations' }] },
]
beforeEach(() => saveSnapshot(env.SCHEMA_KV, { ...demoSnapshot, roles: ROLES }))
afterEach(() => vi.restoreAllMocks())

const HS = { JWT_SECRET, DB_ROLES: 'analyst,sales_rep' }
let tagCount = 0
/** A fake DashScope URL with a fresh tag: `seen` tells whether the question reached the model. */
const tagged = () => {
  const tag = `jwt-${++tagCount}-${crypto.randomUUID().slice(0, 8)}`
  return { tag, DASHSCOPE_BASE_URL: fakeUrl(`tag=${tag}`) }
}
type ErrorJson = { error: { code: string; message: string } }

/** Asks with these headers and settings; the refusal (or the stream) and whether DashScope was called. */
async function askWith(headers: Record<string, string>, vars: Record<string, string | undefined> = HS) {
  const { tag, DASHSCOPE_BASE_URL } = tagged()
  const res = await ask({ question: '沈塘桥地铁站的信息' }, { ...vars, DASHSCOPE_BASE_URL }, headers)
  const body = res.headers.get('content-type')?.includes('json') ? ((await res.json()) as ErrorJson) : await readEvents(res.body!)
  return { status: res.status, body, called: (await fakeRecord(tag)).seen, challenge: res.headers.get('www-authenticate') }
}

describe('a bearer JWT (JWT_SECRET, HS256) identifies the caller and names its role', () => {
  it('a valid token naming one of DB_ROLES is answered', async () => {
    const { status, body, called } = await askWith(bearer(await hsToken({ sub: 'alice', role: 'analyst' })))
    expect(status).toBe(200)
    expect(called).toBe(true)
    expect((body as { event: string }[]).map((e) => e.event)).toContain('sql')
  })

  for (const [name, make, reason] of [
    ['no Authorization header', async () => ({}), /Missing token/],
    ['a bearer that is no JWT', async () => bearer('not-a-jwt'), /malformed/],
    ['three dots of garbage', async () => bearer('a.b.c'), /malformed/],
    ['another scheme', async () => ({ authorization: `Basic ${btoa('alice:pw')}` }), /Malformed authorization/],
    ['a bad signature (another secret)', async () => bearer(await hsToken({ sub: 'alice', role: 'analyst' }, 'another-secret-0123456789abcdef-0000')), /signature/],
    ['a payload changed after signing', async () => bearer(await tampered()), /signature/],
    ['an expired token', async () => bearer(await hsToken({ sub: 'alice', role: 'analyst', exp: epochSeconds() - 5 })), /expired/],
    ['a token not valid yet (nbf)', async () => bearer(await hsToken({ sub: 'alice', role: 'analyst', nbf: epochSeconds() + 600 })), /not valid yet/],
    ['a token without exp', async () => bearer(await hsToken({ sub: 'alice', role: 'analyst', exp: undefined })), /no expiry/],
    ['alg none', async () => bearer(unsigned({ sub: 'alice', role: 'analyst', exp: epochSeconds() + 300 })), /malformed/],
    ['an RS256 token while only JWT_SECRET is set', async () => bearer(await providerToken({ sub: 'alice', role: 'analyst' })), /algorithm/],
  ] as const) {
    it(`${name} → 401 unauthorized, and nothing is asked`, async () => {
      const headers = await make()
      const { status, body, called, challenge } = await askWith(headers)
      expect(status).toBe(401)
      expect(challenge).toMatch(/^Bearer/)
      expect((body as ErrorJson).error.code).toBe('unauthorized')
      expect((body as ErrorJson).error.message).toMatch(reason)
      expect(called).toBe(false)
      // The token never comes back.
      if ('authorization' in headers) expect(JSON.stringify(body)).not.toContain(String(headers.authorization).slice(7, 40))
    })
  }

  it('iss and aud are checked when JWT_ISSUER and JWT_AUDIENCE are set', async () => {
    const vars = { ...HS, JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'txt2sql, reports' }
    const good = { sub: 'alice', role: 'analyst', iss: 'https://id.example.com/', aud: ['other', 'txt2sql'] }
    expect((await askWith(bearer(await hsToken(good)), vars)).status).toBe(200)
    for (const [claims, reason] of [
      [{ ...good, aud: 'other' }, /not meant for this service/],
      [{ ...good, aud: undefined }, /not meant for this service/],
      [{ ...good, iss: 'https://evil.example.com/' }, /another issuer/],
      [{ ...good, iss: undefined }, /another issuer/],
    ] as const) {
      const { status, body, called } = await askWith(bearer(await hsToken(claims)), vars)
      expect([status, (body as ErrorJson).error.message, called]).toEqual([401, expect.stringMatching(reason), false])
    }
  })

  const HOSTILE_ROLES: [string, unknown][] = [
    ['a role DB_ROLES does not list', 'postgres'],
    ['a listed role with another case', 'Analyst'],
    ['quotes and a statement', `analyst"; DROP TABLE stations; --`],
    ['a backslash and a quote', "analyst\\'"],
    ['a semicolon and SET ROLE', 'analyst; SET ROLE postgres'],
    ['10,000 characters', 'a'.repeat(10_000)],
    ['a NUL and a lone surrogate', 'analyst\u0000\ud800'],
    ['a list of roles', ['analyst']],
    ['a number', 42],
    ['an object', { name: 'analyst' }],
    ['an empty string', ''],
  ]
  for (const [name, role] of HOSTILE_ROLES) {
    it(`a role claim that is ${name} → 403 role_not_allowed, nothing asked, the claim not echoed`, async () => {
      const { status, body, called, challenge } = await askWith(bearer(await hsToken({ sub: 'alice', role })))
      expect(status).toBe(403)
      expect(challenge).toBe('Bearer error="insufficient_scope"')
      expect((body as ErrorJson).error.code).toBe('role_not_allowed')
      expect(called).toBe(false)
      if (typeof role === 'string' && role.length > 3) expect((body as ErrorJson).error.message).not.toContain(role)
    })
  }

  it('a token without the role claim → 403; JWT_ROLE_CLAIM names another claim', async () => {
    expect((await askWith(bearer(await hsToken({ sub: 'alice' })))).status).toBe(403)
    const vars = { ...HS, JWT_ROLE_CLAIM: 'https://example.com/db_role' }
    expect((await askWith(bearer(await hsToken({ sub: 'alice', 'https://example.com/db_role': 'sales_rep' })), vars)).status).toBe(200)
    expect((await askWith(bearer(await hsToken({ sub: 'alice', role: 'analyst' })), vars)).status).toBe(403)
  })

  it('an API key still works beside JWTs (the service\'s own role); a wrong key is an invalid token', async () => {
    const vars = { ...HS, API_KEYS: 'key-one,key-two' }
    expect((await askWith(bearer('key-two'), vars)).status).toBe(200)
    expect((await askWith(bearer(await hsToken({ sub: 'alice', role: 'sales_rep' })), vars)).status).toBe(200)
    const wrong = await askWith(bearer('key-three'), vars)
    expect([wrong.status, (wrong.body as ErrorJson).error.code, wrong.called]).toEqual([401, 'unauthorized', false])
  })

  it('without JWT settings a JWT is only an unknown API key (401 with API_KEYS, ignored on an open service)', async () => {
    const token = await hsToken({ sub: 'alice', role: 'analyst' })
    expect((await askWith(bearer(token), { API_KEYS: 'key-one', DB_ROLES: 'analyst' })).status).toBe(401)
    const open = await askWith(bearer(token), {})
    expect(open.status).toBe(200)
    // Open service, no role: the whole schema, as always.
    expect((open.body as { event: string; data: { tables: string[] } }[])[0]!.data.tables).toContain('daily_ridership')
  })

  it('a role the cached snapshot does not record (stored before DB_ROLES named it) → 503 schema_unavailable, saying to refresh', async () => {
    await putDemoSnapshot()
    const { status, body, called } = await askWith(bearer(await hsToken({ sub: 'alice', role: 'analyst' })))
    expect(status).toBe(503)
    expect((body as ErrorJson).error).toEqual({ code: 'schema_unavailable', message: expect.stringMatching(/refresh/) })
    expect(called).toBe(false)
  })

  it('the operator errors are 500 server_misconfigured: a short secret, a JWKS URL over plain http elsewhere', async () => {
    const token = await hsToken({ sub: 'alice', role: 'analyst' })
    for (const vars of [{ JWT_SECRET: 'short' }, { JWT_JWKS_URL: 'http://id.example.com/jwks.json' }, { JWT_JWKS_URL: 'not a url' }]) {
      const { status, body } = await askWith(bearer(token), { DB_ROLES: 'analyst', ...vars })
      expect([status, (body as ErrorJson).error.code]).toEqual([500, 'server_misconfigured'])
    }
  })
})

describe('the old contract takes the same identities', () => {
  it('/getAnwser answers a valid token as text and refuses a bad one as a line of text', async () => {
    const post = (token: string) =>
      call('/getAnwser', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) }, HS)
    const ok = await post(await hsToken({ sub: 'alice', role: 'sales_rep' }))
    expect(ok.status).toBe(200)
    expect(await readText(ok.body!)).toContain('SELECT')
    const expired = await post(await hsToken({ sub: 'alice', role: 'sales_rep', exp: epochSeconds() - 1 }))
    expect(expired.status).toBe(401)
    expect(await expired.text()).toMatch(/^Error: Invalid token: it has expired/)
    const refused = await post(await hsToken({ sub: 'alice', role: 'root' }))
    expect(refused.status).toBe(403)
  })
})

describe('tokens signed by an identity provider (JWT_JWKS_URL: RS256, ES256)', () => {
  const vars = (name: string) => ({ JWT_JWKS_URL: jwksUrl(name), DB_ROLES: 'analyst,sales_rep' })

  it('verifies RS256 and ES256 tokens against the published keys, fetching them once for many requests', async () => {
    const v = vars('cached')
    for (const kid of ['rsa-1', 'ec-1', 'rsa-1', 'ec-1', 'rsa-1']) {
      expect((await askWith(bearer(await providerToken({ sub: 'alice', role: 'analyst' }, kid)), v)).status, kid).toBe(200)
    }
    expect(await jwksHits('cached')).toBe(1)
  })

  it('refuses a token the provider did not sign, an HS256 token, and a key it does not publish (fetching again once)', async () => {
    const v = vars('strict')
    const forged = await hsToken({ sub: 'alice', role: 'analyst' })
    const r1 = await askWith(bearer(forged), v)
    expect([r1.status, (r1.body as ErrorJson).error.message]).toEqual([401, expect.stringMatching(/names no key|algorithm/)])
    const unpublished = await providerToken({ sub: 'alice', role: 'analyst' }, 'rsa-2')
    for (let i = 0; i < 5; i++) expect((await askWith(bearer(unpublished), v)).status).toBe(401)
    // Keys fetched moments ago are not fetched again for an unknown kid: forged kids cost nothing.
    expect(await jwksHits('strict')).toBe(1)
  })

  it('after the provider rotates its keys, a token with the new kid is accepted (the keys are fetched again)', async () => {
    const v = vars('rotating')
    expect((await askWith(bearer(await providerToken({ sub: 'alice', role: 'analyst' }, 'rsa-1')), v)).status).toBe(200)
    await jwksControl('rotate', 'rotating')
    // Within the refetch interval an unknown kid is refused without a fetch; after it, fetched.
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 31_000)
    expect((await askWith(bearer(await providerToken({ sub: 'alice', role: 'analyst' }, 'rsa-2')), v)).status).toBe(200)
    expect(await jwksHits('rotating')).toBe(2)
  })

  it('a provider that cannot be reached: 503 auth_unavailable with nothing cached, the cached keys otherwise', async () => {
    await jwksControl('down', 'down-first')
    const first = await askWith(bearer(await providerToken({ sub: 'alice', role: 'analyst' })), vars('down-first'))
    expect([first.status, (first.body as ErrorJson).error.code, first.called]).toEqual([503, 'auth_unavailable', false])

    const v = vars('down-later')
    expect((await askWith(bearer(await providerToken({ sub: 'alice', role: 'analyst' })), v)).status).toBe(200)
    await jwksControl('down', 'down-later')
    vi.spyOn(console, 'error').mockImplementation(() => {})
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000)
    // Past the TTL the refetch fails; the keys held still verify (a fresh token, under the mocked clock).
    expect((await askWith(bearer(await providerToken({ sub: 'alice', role: 'analyst', exp: Math.floor(Date.now() / 1000) + 300 })), v)).status).toBe(200)
  })
})

/** A valid token whose payload was swapped for another after signing. */
async function tampered(): Promise<string> {
  const [header, , signature] = (await hsToken({ sub: 'alice', role: 'sales_rep' })).split('.')
  const payload = btoa(JSON.stringify({ sub: 'alice', role: 'analyst', exp: epochSeconds() + 300 })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
  return `${header}.${payload}.${signature}`
}

function unsigned(claims: Record<string, unknown>): string {
  const part = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}
