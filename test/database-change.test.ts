import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readConfig } from '../src/config'
import { databaseFingerprint } from '../src/schema/database-fingerprint'
import { createSnapshotCache } from '../src/schema/snapshot-cache'
import { readStoredSnapshot, saveSnapshot } from '../src/schema/snapshot-store'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { ask, call, clearSnapshot, dbEnv, type Overrides } from './support/app'
import { readEvents } from './support/streams'

// A cached snapshot serves only the database it describes: after a change of database (DATABASE_URL
// or the Hyperdrive binding), the old one is never served; the service says so (503) and refreshes
// from the configured database once, then answers from it.
const ADMIN = 'db-change-admin'
const as = (db: string): Overrides => ({ ...dbEnv(db), ADMIN_TOKEN: ADMIN })
const admin = { authorization: `Bearer ${ADMIN}` }
/** The configured database's fingerprint, as the worker computes it from these bindings. */
const fingerprintOf = async (db: string) => (await databaseFingerprint(readConfig({ ...env, ...(as(db) as object) } as never).database.url))!

async function refresh(db: string): Promise<{ version: string; tables: number }> {
  const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: admin }, as(db))
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

async function health(db: string): Promise<{ status: number; retryAfter: string | null; body: { ok: boolean; schema_version: string | null; reasons?: { code: string; message: string }[] } }> {
  const res = await call('/healthz', {}, as(db))
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }
}

/** Polls /healthz of `db` until ready: the refresh a request started runs in the background. */
async function healthyOn(db: string) {
  for (let i = 0; i < 200; i++) {
    const h = await health(db)
    if (h.status === 200) return h
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`not ready on ${db}`)
}

beforeEach(clearSnapshot)
afterEach(() => vi.restoreAllMocks())

describe('a snapshot serves only the database it describes', () => {
  it('records which database it describes: a refresh stamps the configured one, never its password', async () => {
    await refresh('metro')
    const stored = (await createSnapshotCache(readStoredSnapshot).load(env.SCHEMA_KV, { cacheTtlSeconds: 0 }))!
    expect(stored.database).toBe(await fingerprintOf('metro'))
    expect(stored.database).toMatch(/^db-[0-9a-f]{16}$/)
    const body = (await (await call('/v1/admin/schema', { headers: admin }, as('metro'))).json()) as { snapshot: { database: string }; database: { fingerprint: string } }
    expect(body.snapshot.database).toBe(body.database.fingerprint)
    expect(JSON.stringify(body)).not.toContain('postgres:postgres')
  })

  it('after a change of database: 503 with the reason and retry-after, one refresh from the new one, then its answers — also in a fresh isolate', async () => {
    const log = vi.spyOn(console, 'log')
    const a = await refresh('metro')
    expect((await health('metro')).status).toBe(200)
    // The service is pointed at another database: nothing of the first one is served.
    const first = await health('introspect')
    expect(first.status).toBe(503)
    expect(first.retryAfter).toBe('5')
    expect(first.body.schema_version).toBeNull()
    expect(first.body.reasons).toEqual([{ code: 'schema_unavailable', message: expect.stringMatching(/^The schema cache is for another database than the one configured: a refresh from the configured database has started/) }])
    const [asked, again] = await Promise.all([ask({ question: '沈塘桥地铁站的信息' }, as('introspect')), health('introspect')])
    expect(asked.status).toBe(503)
    expect(asked.headers.get('retry-after')).toBe('5')
    expect(((await asked.json()) as { error: { code: string } }).error.code).toBe('schema_unavailable')
    expect(again.status === 503 || again.body.schema_version !== a.version).toBe(true)
    const ready = await healthyOn('introspect')
    expect(ready.body.schema_version).not.toBe(a.version)
    // Three requests met the old snapshot; one refresh ran.
    const refreshes = log.mock.calls.map((c) => String(c[0])).filter((line) => line.includes('"trigger":"database_changed"'))
    expect(refreshes).toHaveLength(1)
    expect(JSON.parse(refreshes[0]!)).toMatchObject({ refresh: 'ok', version: ready.body.schema_version })
    // Its answers name the new database's tables, and a fresh isolate reads the same snapshot.
    const events = await readEvents((await ask({ question: '客流数据', execute: false }, as('introspect'))).body!)
    expect(events[0]!.data.schema_version).toBe(ready.body.schema_version)
    expect(events[0]!.data.tables.join(' ')).not.toMatch(/stations|daily_ridership/)
    const fresh = await createSnapshotCache(readStoredSnapshot).load(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(fresh.version).toBe(ready.body.schema_version)
    expect(fresh.database).toBe(await fingerprintOf('introspect'))
    // And back: the first database's snapshot is refreshed again, not the second one served to it.
    expect((await health('metro')).status).toBe(503)
    expect((await healthyOn('metro')).body.schema_version).toBe(a.version)
  })

  it('a database that cannot be reached: 503 stays, and the refresh is not tried again at every request', async () => {
    const log = vi.spyOn(console, 'error')
    await refresh('metro')
    for (let i = 0; i < 4; i++) expect((await health('dead')).status).toBe(503)
    await vi.waitFor(() => expect(log.mock.calls.some((c) => String(c[0]).includes('"trigger":"database_changed"'))).toBe(true), { timeout: 15_000 })
    for (let i = 0; i < 4; i++) expect((await health('dead')).status).toBe(503)
    const failed = log.mock.calls.map((c) => String(c[0])).filter((line) => line.includes('"trigger":"database_changed"'))
    expect(failed).toHaveLength(1)
    expect(JSON.parse(failed[0]!)).toMatchObject({ refresh: 'failed', code: 'database_unreachable' })
    // The admin sees why.
    const body = (await (await call('/v1/admin/schema', { headers: admin }, as('dead'))).json()) as { last_refresh: { ok: boolean; trigger: string } }
    expect(body.last_refresh).toMatchObject({ ok: false, trigger: 'database_changed' })
  })

  it('a snapshot uploaded by hand is the configured database\'s, whatever it claims', async () => {
    const res = await call('/v1/admin/schema', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ ...demoSnapshot, version: 'curated-1', database: 'db-0000000000000000' }) }, as('guard'))
    expect(res.status).toBe(200)
    const h = await health('guard')
    expect(h.status).toBe(200)
    expect(h.body.schema_version).toBe('curated-1')
    const stored = await createSnapshotCache(readStoredSnapshot).load(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(stored.database).toBe(await fingerprintOf('guard'))
  })

  it('a snapshot that names no database (stored by an older version) is served as before', async () => {
    await saveSnapshot(env.SCHEMA_KV, demoSnapshot)
    expect((await health('guard')).status).toBe(200)
    expect((await health('introspect')).status).toBe(200)
  })

  it('without a database any snapshot is served (an uploaded one is all there is)', async () => {
    await refresh('metro')
    const res = await call('/healthz', {}, { DATABASE_URL: undefined })
    expect(res.status).toBe(200)
  })
})

describe('the fingerprint of a database', () => {
  it('is its user, host, port and name: the password, the query and the driver do not change it', async () => {
    const base = await databaseFingerprint('postgres://app:one@db.example.com:5432/sales')
    expect(base).toMatch(/^db-[0-9a-f]{16}$/)
    expect(await databaseFingerprint('postgres://app:two@DB.example.com/sales?sslmode=require')).toBe(base)
    for (const other of ['postgres://ro:one@db.example.com/sales', 'postgres://app:one@db2.example.com/sales', 'postgres://app:one@db.example.com:6543/sales', 'postgres://app:one@db.example.com/hr']) {
      expect(await databaseFingerprint(other), other).not.toBe(base)
    }
    expect(await databaseFingerprint(undefined)).toBeUndefined()
    expect(await databaseFingerprint('host=db.example.com password=secret')).toBe(await databaseFingerprint('host=db.example.com password=other'))
  })
})
