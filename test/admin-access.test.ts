import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { app } from '../src/app'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { GLOSSARY_KEY } from '../src/schema/glossary'
import { saveSnapshot } from '../src/schema/snapshot-store'
import { ask, call } from './support/app'
import { readEvents } from './support/streams'
import { bearer, hsToken, jwksUrl, JWT_SECRET, providerToken } from './support/tokens'

// The demo snapshot, recording that `analyst` may read every table and `sales_rep` only lines and stations.
const ROLES = [
  { name: 'analyst', tables: demoSnapshot.tables.map((t) => ({ schema: t.schema, name: t.name })) },
  { name: 'sales_rep', tables: [{ schema: 'public', name: 'lines' }, { schema: 'public', name: 'stations', columns: ['id', 'name', 'line_id'] }] },
]
beforeEach(() => saveSnapshot(env.SCHEMA_KV, { ...demoSnapshot, roles: ROLES }))
afterEach(() => vi.restoreAllMocks())

const ADMIN = 'admin-secret-token'
const VARS = { JWT_SECRET, DB_ROLES: 'analyst,sales_rep', ADMIN_ROLES: 'data_team', ADMIN_TOKEN: ADMIN }
type ErrorJson = { error: { code: string; message: string } }

/** Every admin route the app serves, as the router has them (no list to keep), with sample parameters. */
function adminRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>()
  const out: { method: string; path: string }[] = []
  for (const r of app.routes) {
    if (r.method === 'ALL' || !r.path.startsWith('/v1/admin')) continue
    const path = r.path.replace(':id', '1').replace(':role', 'analyst')
    if (seen.has(`${r.method} ${path}`)) continue
    seen.add(`${r.method} ${path}`)
    out.push({ method: r.method, path })
  }
  return out
}

const send = (method: string, path: string, headers: Record<string, string>, vars: Record<string, string> = VARS) =>
  call(path, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'GET' ? {} : { body: '{}' }) }, vars)

describe('ADMIN_ROLES: a JWT of an admin role opens the admin routes, as the person its sub names', () => {
  it('finds the admin routes to test (the list is the router\'s, so a new route is tested too)', () => {
    const paths = adminRoutes().map((r) => `${r.method} ${r.path}`)
    expect(paths).toEqual(expect.arrayContaining(['GET /v1/admin/schema', 'PUT /v1/admin/glossary', 'GET /v1/admin/usage', 'GET /v1/admin/roles/analyst/view', 'POST /v1/admin/schema/refresh']))
    expect(paths.length).toBeGreaterThan(10)
  })

  it('a JWT whose role is in DB_ROLES only is 403 role_not_allowed on every admin route', async () => {
    const headers = bearer(await hsToken({ sub: 'carol', role: 'analyst' }))
    for (const { method, path } of adminRoutes()) {
      const res = await send(method, path, headers)
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(((await res.json()) as ErrorJson).error.code).toBe('role_not_allowed')
    }
  })

  it('a JWT whose role is in neither list (or has none) is 403 on every admin route', async () => {
    for (const claims of [{ sub: 'mallory', role: 'postgres' }, { sub: 'mallory' }, { sub: 'mallory', role: ['data_team'] }, { sub: 'mallory', role: 'DATA_TEAM' }]) {
      const headers = bearer(await hsToken(claims))
      for (const { method, path } of adminRoutes()) expect((await send(method, path, headers)).status, `${JSON.stringify(claims)} ${method} ${path}`).toBe(403)
    }
  })

  it('an admin-role JWT, the ADMIN_TOKEN and no credentials: admitted, admitted, 401 — on every admin route', async () => {
    const admin = bearer(await hsToken({ sub: 'dana@example.com', role: 'data_team' }))
    for (const { method, path } of adminRoutes()) {
      for (const headers of [admin, bearer(ADMIN)]) {
        const res = await send(method, path, headers)
        // Admitted: whatever the route then says (400 for an empty body, 503 without a database), never 401/403.
        expect([401, 403], `${method} ${path}`).not.toContain(res.status)
      }
      expect((await send(method, path, {})).status, `${method} ${path}`).toBe(401)
    }
  })

  it('a refused admin change changes nothing: a DB_ROLES JWT cannot write the glossary', async () => {
    await env.SCHEMA_KV.delete(GLOSSARY_KEY)
    const body = JSON.stringify({ terms: [{ term: '客流', definition: '站名', columns: ['stations.name'] }] })
    const res = await call('/v1/admin/glossary', { method: 'PUT', headers: { 'content-type': 'application/json', ...bearer(await hsToken({ sub: 'carol', role: 'sales_rep' })) }, body }, VARS)
    expect(res.status).toBe(403)
    expect(await env.SCHEMA_KV.get(GLOSSARY_KEY)).toBeNull()
  })

  it('an admin role opens nothing else: not in DB_ROLES, its JWT cannot ask', async () => {
    const res = await ask({ question: '沈塘桥地铁站的信息' }, VARS, bearer(await hsToken({ sub: 'dana', role: 'data_team' })))
    expect(res.status).toBe(403)
    expect(((await res.json()) as ErrorJson).error.code).toBe('role_not_allowed')
  })

  it('an admin token must name its person: no sub → 403', async () => {
    const res = await send('GET', '/v1/admin/schema', bearer(await hsToken({ role: 'data_team' })))
    expect(res.status).toBe(403)
    expect(((await res.json()) as ErrorJson).error.message).toMatch(/sub/)
  })

  it('invalid admin tokens are 401 with the reason (a bad signature, an expired one), never echoed', async () => {
    const forged = await hsToken({ sub: 'dana', role: 'data_team' }, 'another-secret-0123456789abcdef-0000')
    const res = await send('GET', '/v1/admin/schema', bearer(forged))
    expect(res.status).toBe(401)
    const text = await res.text()
    expect(text).toMatch(/signature/)
    expect(text).not.toContain(forged.slice(0, 30))
  })

  it('without ADMIN_ROLES, a JWT is no admin even with the role; without ADMIN_TOKEN and ADMIN_ROLES the routes are closed', async () => {
    const token = bearer(await hsToken({ sub: 'dana', role: 'data_team' }))
    expect((await send('GET', '/v1/admin/schema', token, { JWT_SECRET, ADMIN_TOKEN: ADMIN })).status).toBe(401)
    const closed = await send('GET', '/v1/admin/schema', token, { JWT_SECRET })
    expect(closed.status).toBe(401)
    expect(((await closed.json()) as ErrorJson).error.message).toMatch(/ADMIN_ROLES/)
    // ADMIN_ROLES without a JWT setting cannot verify anything: still closed.
    expect((await send('GET', '/v1/admin/schema', token, { ADMIN_ROLES: 'data_team' })).status).toBe(401)
  })
})

describe('Cloudflare Access: the Cf-Access-Jwt-Assertion header is the token', () => {
  it('a token from the Access team\'s keys (JWT_JWKS_URL) in the header opens the admin routes; a DB role in it does not', async () => {
    const vars = { JWT_JWKS_URL: jwksUrl('access'), ADMIN_ROLES: 'data_team', DB_ROLES: 'analyst' }
    const ok = await send('GET', '/v1/admin/schema', { 'cf-access-jwt-assertion': await providerToken({ sub: 'erin@example.com', role: 'data_team' }) }, vars)
    expect(ok.status).toBe(200)
    const refused = await send('GET', '/v1/admin/schema', { 'cf-access-jwt-assertion': await providerToken({ sub: 'erin@example.com', role: 'analyst' }) }, vars)
    expect(refused.status).toBe(403)
    const forged = await send('GET', '/v1/admin/schema', { 'cf-access-jwt-assertion': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImRhdGFfdGVhbSJ9.' }, vars)
    expect(forged.status).toBe(401)
  })
})

describe('who made a change is in the audit line', () => {
  it('a change by an admin JWT logs its sub with audit=admin_change; the ADMIN_TOKEN logs admin-token; a read is no change', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
    const put = (headers: Record<string, string>) =>
      call('/v1/admin/glossary', { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ terms: [{ term: '线路', definition: '地铁线路', tables: ['lines'] }] }) }, VARS)
    expect((await put(bearer(await hsToken({ sub: 'dana@example.com', role: 'data_team' })))).status).toBe(200)
    expect((await put(bearer(ADMIN))).status).toBe(200)
    expect((await send('GET', '/v1/admin/glossary', bearer(ADMIN))).status).toBe(200)
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.path === 'string' && (l.path as string).startsWith('/v1/admin/glossary'))
    expect(logged.map((l) => [l.method, l.admin, l.audit ?? null])).toEqual([['PUT', 'dana@example.com', 'admin_change'], ['PUT', 'admin-token', 'admin_change'], ['GET', 'admin-token', null]])
    expect(lines.join('\n')).not.toContain(ADMIN)
  })
})

describe('POST /v1/admin/glossary/check: the PUT\'s check, nothing stored', () => {
  it('lists an unknown column, passes a fitting glossary, and stores neither', async () => {
    await env.SCHEMA_KV.delete(GLOSSARY_KEY)
    const check = async (terms: unknown) => (await call('/v1/admin/glossary/check', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ADMIN) }, body: JSON.stringify({ terms }) }, VARS)).json() as Promise<{ ok: boolean; problems: { ref: string; problem: string }[] }>
    const bad = await check([{ term: '客流', definition: '进站人数', columns: ['stations.nope'] }])
    expect(bad).toMatchObject({ ok: false, problems: [{ ref: 'stations.nope', problem: 'unknown_column' }] })
    expect((await check([{ term: '站名', definition: '车站名称', columns: ['stations.name'] }])).ok).toBe(true)
    expect(await env.SCHEMA_KV.get(GLOSSARY_KEY)).toBeNull()
  })
})

describe('role preview: what the model would see as a role', () => {
  it('lists the tables and columns the role may read and names what it hides', async () => {
    const res = await send('GET', '/v1/admin/roles/sales_rep/view', bearer(ADMIN))
    expect(res.status).toBe(200)
    const view = (await res.json()) as { role: string; tables: { name: string; columns: string[]; hidden_columns: string[] }[]; hidden_tables: string[] }
    expect(view.tables.map((t) => t.name).sort()).toEqual(['lines', 'stations'])
    const stations = view.tables.find((t) => t.name === 'stations')!
    expect(stations.columns).toEqual(['id', 'name', 'line_id'])
    expect(stations.hidden_columns.length).toBeGreaterThan(0)
    expect(view.hidden_tables.length).toBe(demoSnapshot.tables.length - 2)
    const analyst = (await (await send('GET', '/v1/admin/roles/analyst/view', bearer(ADMIN))).json()) as { hidden_tables: string[] }
    expect(analyst.hidden_tables).toEqual([])
  })

  it('lists the recorded roles; a role the snapshot does not record is 404, and a later refresh\'s record is read at once', async () => {
    const roles = (await (await send('GET', '/v1/admin/roles', bearer(ADMIN))).json()) as { recorded: string[]; db_roles: string[] }
    expect(roles).toMatchObject({ recorded: ['analyst', 'sales_rep'], db_roles: ['analyst', 'sales_rep'] })
    expect((await send('GET', '/v1/admin/roles/auditor/view', bearer(ADMIN))).status).toBe(404)
    await saveSnapshot(env.SCHEMA_KV, { ...demoSnapshot, roles: [...ROLES, { name: 'auditor', tables: [{ schema: 'public', name: 'lines' }] }] })
    const auditor = (await (await send('GET', '/v1/admin/roles/auditor/view', bearer(ADMIN))).json()) as { tables: { name: string }[] }
    expect(auditor.tables.map((t) => t.name)).toEqual(['lines'])
  })
})

describe('usage is kept without a budget, and names JWT callers to admins', () => {
  it('with DAILY_TOKEN_BUDGET at its default (0) a JWT caller\'s asks are counted under its sub', async () => {
    const sub = `frank-${crypto.randomUUID().slice(0, 8)}`
    const token = bearer(await hsToken({ sub, role: 'analyst' }))
    for (let i = 0; i < 2; i++) await readEvents((await ask({ question: '沈塘桥地铁站的信息' }, VARS, token)).body!)
    type Row = { id: string; name: string | null; requests: number; tokens: number }
    let row: Row | undefined
    await vi.waitFor(async () => {
      const report = (await (await send('GET', '/v1/admin/usage', bearer(ADMIN))).json()) as { tracking: boolean; keys: Row[] }
      expect(report.tracking).toBe(true)
      row = report.keys.find((k) => k.name === sub)
      expect(row).toMatchObject({ requests: 2 })
      expect(row!.tokens).toBeGreaterThan(0)
    }, { timeout: 5000, interval: 50 })
    expect(row!.id).toMatch(/^sub:[0-9a-f]{24}$/)
    const history = (await (await send('GET', '/v1/admin/usage/history?days=7', bearer(ADMIN))).json()) as { rows: (Row & { day: string })[] }
    expect(history.rows.find((r) => r.name === sub)).toMatchObject({ requests: 2, day: new Date().toISOString().slice(0, 10) })
    expect((await send('GET', '/v1/admin/usage/history?days=32', bearer(ADMIN))).status).toBe(400)
  })
})
