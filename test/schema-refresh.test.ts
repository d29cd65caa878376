import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import worker from '../src/index'
import { linkIndexFor } from '../src/linking/index-cache'
import { loadSnapshot, readPointerFrom } from '../src/schema/snapshot-store'
import type { Table } from '../src/schema/snapshot-schema'
import { ask, call, clearSnapshot, databaseWay, dbEnv, fakeRecord, fakeUrl, putDemoSnapshot, type Overrides } from './support/app'
import { readEvents } from './support/streams'

const ADMIN = { ADMIN_TOKEN: 'admin-secret' }
const auth = { authorization: 'Bearer admin-secret' }
const refresh = (overrides: Overrides) => call('/v1/admin/schema/refresh', { method: 'POST', headers: auth }, { ...ADMIN, ...overrides })
const stored = () => loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
const table = (tables: Table[], schema: string, name: string) => tables.find((t) => t.schema === schema && t.name === name)

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe(code)
  return body.error.message
}

beforeEach(clearSnapshot)

describe('POST /v1/admin/schema/refresh introspects a real Postgres', () => {
  it('reads comments, columns, keys, views and samples, and reports the counts', async () => {
    const res = await refresh(dbEnv('introspect', { DB_SCHEMAS: 'public,sales' }))
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ version: expect.stringMatching(/^pg-[0-9a-f]{12}$/), changed: true, views: 1, examples: 0, parts: 1 })
    expect(body.tables).toBe(8)
    expect(body.foreign_keys).toBe(4)
    expect(body.timings).toEqual({ catalog_ms: expect.any(Number), sampling_ms: expect.any(Number), store_ms: expect.any(Number) })
    expect(body.stored_bytes).toBeLessThan(body.bytes as number)
    const snapshot = await stored()
    expect(snapshot).toMatchObject({ version: body.version, source: 'introspection' })

    const dtzpt = table(snapshot.tables, 'public', 'dtzpt')!
    expect(dtzpt.comment).toBe('地铁站点')
    expect(dtzpt.primary_key).toEqual(['zdbh'])
    expect(dtzpt.unique).toEqual([['zdmc']])
    expect(dtzpt.columns.map((c) => [c.name, c.type, c.nullable, c.comment ?? null])).toEqual([
      ['zdbh', 'integer', false, '站点编号'],
      ['zdmc', 'character varying(64)', false, '站点名称'],
      ['xzq', 'character varying(16)', true, '所在行政区'],
      ['zt', 'line_status', false, '运营状态'],
      ['bq', 'short_label', true, null],
    ])
    // Statistics give the samples of analyzed tables; an enum's labels are its samples.
    expect(dtzpt.columns[1]!.samples).toEqual(expect.arrayContaining(['沈塘桥', '武林广场', '龙翔桥']))
    expect(dtzpt.columns[3]!.samples).toEqual(['运营', '在建', '规划'])
    expect(dtzpt.columns[3]!.default).toBe("'运营'::line_status")

    // Quoted mixed-case and Chinese identifiers, composite keys, a unique index.
    expect(table(snapshot.tables, 'public', 'LineStops')!.primary_key).toEqual(['LineNo', 'Seq'])
    const flow = table(snapshot.tables, 'public', '客流')!
    expect(flow.comment).toBe('每日分站客流')
    expect(flow.foreign_keys).toEqual([{ columns: ['LineNo', 'Seq'], ref_schema: 'public', ref_table: 'LineStops', ref_columns: ['LineNo', 'Seq'] }])
    expect(flow.unique).toEqual([['日期', 'LineNo', 'Seq']])
    expect(flow.columns.find((c) => c.name === '进站人数')!.comment).toBe('当日进站人次')

    // A cross-schema foreign key; samples of a never-analyzed table come from the table itself.
    const orders = table(snapshot.tables, 'sales', 'orders')!
    expect(orders.foreign_keys).toEqual([{ columns: ['zdbh'], ref_schema: 'public', ref_table: 'dtzpt', ref_columns: ['zdbh'] }])
    expect(orders.columns.find((c) => c.name === 'channel')!.samples).toEqual(expect.arrayContaining(['支付宝', '微信', '现金']))
    expect(orders.row_estimate).toBe(300)
    expect(table(snapshot.tables, 'sales', 'promo')!.columns.find((c) => c.name === 'label')!.samples).toEqual(expect.arrayContaining(['新客立减', '周末半价']))

    expect(table(snapshot.tables, 'public', 'v_station_orders')).toMatchObject({ kind: 'view', comment: '各站订单数' })
    // Only the configured schemas.
    expect(snapshot.tables.some((t) => t.schema === 'hidden')).toBe(false)
  })

  it('shows a restricted role only what it may SELECT, and no key that names a hidden table', async () => {
    const res = await refresh(dbEnv('introspectReader', { DB_SCHEMAS: 'public,sales,hidden' }))
    expect(res.status).toBe(200)
    const snapshot = await stored()
    const names = snapshot.tables.map((t) => `${t.schema}.${t.name}`).sort()
    expect(names).toEqual(['public.LineStops', 'public.dtzpt', 'public.partial_cols', 'public.staff_badges', 'public.v_station_orders', 'public.客流', 'sales.orders', 'sales.promo'].sort())
    expect(table(snapshot.tables, 'public', 'staff_badges')!.foreign_keys).toBeUndefined()
    // Column privileges: the column it may not read is not there, nor its comment.
    expect(table(snapshot.tables, 'public', 'partial_cols')!.columns.map((c) => c.name)).toEqual(['id', 'visible'])
    expect(JSON.stringify(snapshot)).not.toContain('不可见')
  })

  it('gives the same version when nothing changed, and a new one after COMMENT ON changes', async () => {
    // The `feedback` database is a copy of the demo that no other test compares comments in.
    const first = (await (await refresh(dbEnv('feedback'))).json()) as { version: string; changed: boolean }
    const second = (await (await refresh(dbEnv('feedback'))).json()) as { version: string; changed: boolean }
    expect(second).toMatchObject({ version: first.version, changed: false })
    await withDb(readConfig({ ...env, ...dbEnv('feedback') }).database, (db) => db.query(`COMMENT ON TABLE fares IS '票价表（${Date.now()}）'`), 30_000)
    const third = (await (await refresh(dbEnv('feedback'))).json()) as { version: string; changed: boolean }
    expect(third.changed).toBe(true)
    expect(third.version).not.toBe(first.version)
    expect(table((await stored()).tables, 'public', 'fares')!.comment).toMatch(/^票价表（\d+）$/)
  })

  it('lays curated comments over the introspected ones and reports overlay entries that match nothing', async () => {
    const overlay = { tables: { dtzpt: { comment: '地铁站点（官方口径）', columns: { xzq: '行政区划', zdlx: '站点类型' } }, 'public.nope': { comment: 'x' } } }
    const put = await call('/v1/admin/schema/overlay', { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(overlay) }, ADMIN)
    expect(put.status).toBe(200)
    const res = await refresh(dbEnv('introspect'))
    // An unknown table by its key; an unknown column of a known table by the column, not its whole table.
    expect(((await res.json()) as { overlay_unmatched: string[] }).overlay_unmatched).toEqual(['dtzpt.zdlx', 'public.nope'])
    const dtzpt = table((await stored()).tables, 'public', 'dtzpt')!
    expect(dtzpt.comment).toBe('地铁站点（官方口径）')
    expect(dtzpt.columns.find((c) => c.name === 'xzq')!.comment).toBe('行政区划')
    expect(dtzpt.columns.find((c) => c.name === 'zdmc')!.comment).toBe('站点名称')
    const get = await call('/v1/admin/schema/overlay', { headers: auth }, ADMIN)
    expect(await get.json()).toEqual(overlay)
  })

  it('indexes every distinct value of low-cardinality text columns for linking, bounded per column and in total', async () => {
    /** value key → the columns (`schema.table.column`) the stored link index finds it in. */
    const indexed = async () => {
      const snapshot = await stored()
      const index = linkIndexFor(snapshot)
      const at = (c: number) => `${snapshot.tables[index.columns[c]![0]]!.schema}.${snapshot.tables[index.columns[c]![0]]!.name}.${index.columns[c]![1]}`
      return Object.fromEntries(Object.entries(index.values).map(([key, cols]) => [key, cols.map(at)]))
    }
    // No samples, so everything in the index comes from the value collection.
    const base = { DB_SCHEMAS: 'public,sales', INTROSPECT_SAMPLE_VALUES: '0' }
    const all = (await (await refresh(dbEnv('introspect', base))).json()) as Record<string, number>
    expect(all.indexed_columns).toBeGreaterThanOrEqual(5)
    const values = await indexed()
    // From statistics (analyzed tables) …
    expect(values['武林广场']).toEqual(['public.dtzpt.zdmc', 'public.v_station_orders.zdmc'])
    expect(values['上城区']).toEqual(['public.dtzpt.xzq'])
    expect(values['支付宝']).toEqual(['sales.orders.channel'])
    // … and from the bounded samples of a table never analyzed.
    expect(values['新客立减']).toEqual(['sales.promo.label'])
    // Counted as collected; values that cannot name a row ('A', 'P1': too short) get no key.
    expect(all.indexed_values).toBeGreaterThanOrEqual(Object.values(values).flat().length)
    // The model is not sent them: no samples in the snapshot.
    expect((await stored()).tables.flatMap((t) => t.columns).some((c) => c.samples?.length && !/line_status/.test(c.type))).toBe(false)

    // Per column: a column with more distinct values than the bound is not indexed at all.
    const two = (await (await refresh(dbEnv('introspect', { ...base, LINK_VALUES_PER_COLUMN: '2' }))).json()) as Record<string, number>
    const few = await indexed()
    expect(few['武林广场']).toBeUndefined()
    expect(few['龙翔桥']).toBeUndefined()
    expect(few['支付宝']).toBeUndefined()
    expect(few['上城区']).toEqual(['public.dtzpt.xzq'])
    expect(few['新客立减']).toEqual(['sales.promo.label'])
    expect(two.indexed_values).toBeLessThan(all.indexed_values!)

    // In total: the columns with the fewest values first, until the total is reached.
    const capped = (await (await refresh(dbEnv('introspect', { ...base, LINK_VALUES_TOTAL: '5' }))).json()) as Record<string, number>
    expect(capped.indexed_values).toBeLessThanOrEqual(5)
    expect(capped.indexed_values).toBeGreaterThan(0)
    const off = (await (await refresh(dbEnv('introspect', { ...base, LINK_VALUES_PER_COLUMN: '0' }))).json()) as Record<string, number>
    expect(off).toMatchObject({ indexed_columns: 0, indexed_values: 0 })
  })

  it('links a question naming a station of the demo database to its table through the value index', async () => {
    const tablesFor = async (tag: string) => {
      const res = await ask({ question: '凤起路怎么走' }, { DASHSCOPE_BASE_URL: fakeUrl(`tag=${tag}`), SCHEMA_TOKEN_BUDGET: '150' })
      return ((await readEvents(res.body!))[0]!.data as { tables: string[] }).tables
    }
    await refresh(dbEnv('metro', { INTROSPECT_SAMPLE_VALUES: '0', LINK_VALUES_PER_COLUMN: '0' }))
    expect(await tablesFor('valuelink0')).not.toContain('stations')
    const body = (await (await refresh(dbEnv('metro', { INTROSPECT_SAMPLE_VALUES: '0' }))).json()) as Record<string, number>
    expect(body.indexed_values).toBeGreaterThan(20)
    expect(await tablesFor('valuelink1')).toContain('stations')
  })

  it('answers from the introspected demo database: comments and samples reach the prompt', async () => {
    await refresh(dbEnv('metro'))
    const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_BASE_URL: fakeUrl('tag=introspected1') })
    const events = await readEvents(res.body!)
    const version = (await readPointerFrom(env.SCHEMA_KV))!.version
    expect(events[0]!.data).toMatchObject({ schema_version: version })
    const prompt = JSON.stringify((await fakeRecord('introspected1')).body)
    expect(prompt).toContain('地铁站点')
    expect(prompt).toContain('daily_ridership')
  })
})

describe('a failed refresh keeps the cached snapshot and says why', () => {
  const cases: [string, () => Overrides, number, string][] = [
    ['a wrong password', () => dbEnv('introspectWrongPassword'), 502, 'database_auth_failed'],
    ['a database that does not exist', () => dbEnv('missingDatabase'), 502, 'database_unreachable'],
    ['an unreachable server', () => dbEnv('dead'), 502, 'database_unreachable'],
    ['a role that may read no table', () => dbEnv('introspectNobody'), 502, 'database_permission_denied'],
    // A Hyperdrive binding's connection string is the platform's, never malformed.
    ...(databaseWay() === 'neon' ? [['a malformed DATABASE_URL', () => ({ ...dbEnv('introspect'), DATABASE_URL: 'not a url' }), 500, 'server_misconfigured'] as [string, () => Overrides, number, string]] : []),
  ]
  for (const [what, overrides, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      await putDemoSnapshot()
      const message = await expectError(await refresh(overrides()), status, code)
      expect(message).not.toMatch(/postgres:\/\/\S|reader-pw|not-the-password/)
      expect((await stored()).version).toBe('demo-1')
      const summary = (await (await call('/v1/admin/schema', { headers: auth }, ADMIN)).json()) as any
      expect(summary.snapshot).toMatchObject({ version: 'demo-1' })
      expect(summary.last_refresh).toMatchObject({ ok: false, trigger: 'admin', error: { code } })
    })
  }

  it('times out a server that accepts the connection but never answers', async () => {
    await expectError(await refresh(dbEnv('silent', { DB_CONNECT_TIMEOUT_MS: '500' })), 504, 'database_timeout')
  })

  it('is 503 database_not_configured without DATABASE_URL', async () => {
    await expectError(await refresh({}), 503, 'database_not_configured')
  })

  it('is 401 without the admin token', async () => {
    const res = await call('/v1/admin/schema/refresh', { method: 'POST' }, { ...ADMIN, ...dbEnv('introspect') })
    expect(res.status).toBe(401)
  })
})

describe('GET /v1/admin/schema', () => {
  it('summarises the cached snapshot and the last refresh', async () => {
    await refresh(dbEnv('metro'))
    const res = await call('/v1/admin/schema', { headers: auth }, { ...ADMIN, ...dbEnv('metro') })
    expect(res.status).toBe(200)
    const body = (await res.json()) as any
    expect(body.snapshot).toMatchObject({ version: expect.stringMatching(/^pg-/), source: 'introspection', tables: 6, views: 1, encoding: 'gzip', parts: 1 })
    expect(body.snapshot.body).toBeUndefined()
    expect(body.last_refresh).toMatchObject({ ok: true, trigger: 'admin', version: body.snapshot.version })
    // The database the snapshot describes is the configured one (docs/SNAPSHOT.md).
    expect(body.database).toEqual({ configured: true, schemas: ['public'], fingerprint: expect.stringMatching(/^db-[0-9a-f]{16}$/) })
    expect(body.snapshot.database).toBe(body.database.fingerprint)
  })
})

describe('the Cron Trigger', () => {
  it('refreshes the cache from the database', async () => {
    const bindings = { ...env, ...dbEnv('metro') }
    await worker.scheduled!({ cron: '17 * * * *', scheduledTime: Date.now(), type: 'scheduled', noRetry() {} } as ScheduledController, bindings)
    expect((await stored()).source).toBe('introspection')
    expect((await readPointerFrom(env.SCHEMA_KV))!.tables).toBe(6)
  })

  it('keeps the cached snapshot when the database fails', async () => {
    await putDemoSnapshot()
    const bindings = { ...env, ...dbEnv('introspectWrongPassword') }
    await worker.scheduled!({ cron: '17 * * * *', scheduledTime: Date.now(), type: 'scheduled', noRetry() {} } as ScheduledController, bindings)
    expect((await stored()).version).toBe('demo-1')
  })

  it('logs a bad setting as a failed refresh with its code and keeps the cached snapshot', async () => {
    await putDemoSnapshot()
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const bindings = { ...env, ...dbEnv('metro'), SCHEMA_CACHE_TTL_SECONDS: 'soon' }
    await expect(
      worker.scheduled!({ cron: '17 * * * *', scheduledTime: Date.now(), type: 'scheduled', noRetry() {} } as ScheduledController, bindings),
    ).resolves.toBeUndefined()
    const lines = errors.mock.calls.map(([line]) => JSON.parse(String(line)))
    expect(lines).toEqual([{ cron: '17 * * * *', refresh: 'failed', code: 'server_misconfigured', message: 'SCHEMA_CACHE_TTL_SECONDS must be a non-negative integer' }])
    expect((await stored()).version).toBe('demo-1')
    errors.mockRestore()
  })
})
