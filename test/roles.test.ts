import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { checkAndRun } from '../src/db/guarded-sql'
import { sha256Hex } from '../src/schema/bytes'
import { linkIndexFor } from '../src/linking/index-cache'
import { valueKey } from '../src/linking/value-keys'
import { snapshotForRole } from '../src/schema/role-view'
import { createSnapshotCache } from '../src/schema/snapshot-cache'
import type { Snapshot } from '../src/schema/snapshot-schema'
import { loadSnapshot, readStoredSnapshot } from '../src/schema/snapshot-store'
import { ask, call, dbEnv, dbEnvWithReadonly, fakeRecord, fakeUrl } from './support/app'
import { readEvents, type ParsedEvent } from './support/streams'
import { bearer, hsToken, JWT_SECRET } from './support/tokens'

// Who may see what, decided by Postgres (test/fixtures/db/roles.sql): `analyst` may not read
// employees.salary, `sales_rep` may not read employees at all, orders are filtered per tenant by a
// row-level security policy on request.jwt.claims, one role's name is hostile text, `outsider` is
// listed but the login is not a member, `ghost` does not exist.
const HOSTILE_ROLE = `x'; DROP TABLE orders; --\\ "角色"`
const ADMIN = 'roles-admin'
/** The settings of a service on the `roles` database, with `readonly` (a test database's name) as the read-only role's connection. */
const vars = (readonly = 'rolesReadonly') => ({
  ...dbEnvWithReadonly('roles', readonly),
  JWT_SECRET,
  DB_ROLES: `analyst,sales_rep,${HOSTILE_ROLE},outsider,ghost`,
  ADMIN_TOKEN: ADMIN,
  API_KEYS: 'service-key',
  SQL_EXECUTE: 'true',
})

const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
let tags = 0
function model(answer: string, repair?: string) {
  const tag = `roles-${++tags}-${crypto.randomUUID().slice(0, 8)}`
  const options = [`tag=${tag}`, `answer=${encodeURIComponent(answer)}`, ...(repair ? [`repair=${encodeURIComponent(repair)}`] : [])]
  return { tag, DASHSCOPE_BASE_URL: fakeUrl(options.join(',')) }
}
const token = (role: string, claims: Record<string, unknown> = {}) => hsToken({ sub: 'alice', role, ...claims })
const of = (events: ParsedEvent[], name: string) => events.filter((e) => e.event === name)

/** Asks as a caller (a JWT or the service key) with the model answering `answer`. */
async function askAs(auth: string, question: string, answer: string, opts: { execute?: boolean; repair?: string; readonly?: string } = {}) {
  const m = model(answer, opts.repair)
  const res = await ask({ question, execute: opts.execute ?? false }, { ...vars(opts.readonly), DASHSCOPE_BASE_URL: m.DASHSCOPE_BASE_URL }, bearer(auth))
  expect(res.status, await peekError(res)).toBe(200)
  const events = await readEvents(res.body!)
  const record = await fakeRecord(m.tag)
  const messages: { role: string; content: string }[] = record.body?.input?.messages ?? []
  return { events, prompt: messages[0]?.content ?? '', messages, called: record.seen }
}

async function peekError(res: Response): Promise<string> {
  return res.status === 200 ? '' : await res.clone().text()
}

beforeAll(async () => {
  const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: bearer(ADMIN) }, vars())
  expect(res.status, await res.clone().text()).toBe(200)
})
afterEach(() => vi.restoreAllMocks())

describe('a refresh records what each role of DB_ROLES may read', () => {
  it('per role: its tables and columns; roles the database lacks are reported, not recorded', async () => {
    const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: bearer(ADMIN) }, vars())
    const result = (await res.json()) as { roles: unknown[]; roles_missing: string[] }
    expect(result.roles).toEqual([
      { name: 'analyst', tables: 4, columns: 2 + 3 + 5 + 2 },
      { name: 'sales_rep', tables: 2, columns: 2 + 5 },
      { name: HOSTILE_ROLE, tables: 1, columns: 2 },
      { name: 'outsider', tables: 1, columns: 2 },
    ])
    expect(result.roles_missing).toEqual(['ghost'])
    const admin = (await (await call('/v1/admin/schema', { headers: bearer(ADMIN) }, vars())).json()) as { snapshot: { roles: string[] } }
    expect(admin.snapshot.roles).toEqual(['analyst', 'sales_rep', HOSTILE_ROLE, 'outsider'])
    // Rows filtered per caller: the table under a policy, and the view run with the caller's rights.
    const snapshot = await loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(snapshot.tables.filter((t) => t.row_security).map((t) => t.name)).toEqual(['orders', 'tenant_totals'])
  })
})

describe('the model sees only what the caller\'s role may read', () => {
  // The schema section of the system message (the instructions' own example mentions 员工工资).
  const schemaOf = (prompt: string) => prompt.slice(prompt.indexOf('数据库结构（PostgreSQL）'))
  const tablesIn = (prompt: string) => [...prompt.matchAll(/CREATE (?:TABLE|VIEW) (\S+) \(/g)].map((m) => m[1])

  it('the service\'s own caller (an API key): every table and column, with sample values', async () => {
    const { events, prompt } = await askAs('service-key', '订单有哪些', fence('SELECT * FROM orders'))
    expect(tablesIn(prompt)).toEqual(['departments', 'employees', 'orders', 'tenant_totals'])
    expect(prompt).toContain('salary')
    expect(prompt).toContain('阿尔法商贸')
    expect(of(events, 'meta')[0]!.data.tables).toEqual(['departments', 'employees', 'orders', 'tenant_totals'])
  })

  it('analyst: employees without salary; orders without the other tenants\' values; meta.tables the same', async () => {
    const { events, prompt } = await askAs(await token('analyst'), '订单有哪些', fence('SELECT customer FROM orders'))
    expect(tablesIn(prompt)).toEqual(['departments', 'employees', 'orders', 'tenant_totals'])
    expect(of(events, 'meta')[0]!.data.tables).toEqual(tablesIn(prompt))
    for (const hidden of ['salary', '月薪', '阿尔法商贸', '贝塔科技', 'alpha', 'beta', '~5 rows']) expect(schemaOf(prompt), hidden).not.toContain(hidden)
    for (const shown of ['员工姓名', 'department_id', '客户名称', '租户', '华东销售部']) expect(prompt, shown).toContain(shown)
  })

  it('sales_rep: no employees at all, not even as a foreign key target or a comment', async () => {
    const { events, prompt } = await askAs(await token('sales_rep'), '订单有哪些', fence('SELECT customer FROM orders'))
    expect(tablesIn(prompt)).toEqual(['departments', 'orders'])
    expect(of(events, 'meta')[0]!.data.tables).toEqual(['departments', 'orders'])
    expect(schemaOf(prompt)).toContain('CREATE TABLE orders')
    for (const hidden of ['employees', '员工', 'salary', '阿尔法商贸']) expect(schemaOf(prompt), hidden).not.toContain(hidden)
  })

  it('a glossary PUT keeps each role\'s index of row values: the same question still finds its table, also in a fresh isolate', async () => {
    const roleIndex = async (snapshot: Snapshot) => {
      const view = snapshotForRole(snapshot, 'analyst')
      return Object.keys(linkIndexFor(view).values)
    }
    // Without sample values, a row value reaches linking only through the refresh's value index.
    const noSamples = { ...vars(), INTROSPECT_SAMPLE_VALUES: '0' }
    expect((await call('/v1/admin/schema/refresh', { method: 'POST', headers: bearer(ADMIN) }, noSamples)).status).toBe(200)
    const before = await roleIndex(await loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 }))
    expect(before).toContain(valueKey('研发中心'))
    const glossary = { terms: [{ term: '部门人数', definition: '每个部门的员工数', tables: ['employees', 'departments'] }] }
    const res = await call('/v1/admin/glossary', { method: 'PUT', headers: { ...bearer(ADMIN), 'content-type': 'application/json' }, body: JSON.stringify(glossary) }, noSamples)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await roleIndex(await loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 }))).toEqual(before)
    const fresh = await createSnapshotCache(readStoredSnapshot).load(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(await roleIndex(fresh)).toEqual(before)
    const { prompt } = await askAs(await token('analyst'), '研发中心', fence('SELECT 1'))
    expect(prompt).toContain('CREATE TABLE departments')
    // Back as it was, for the tests that follow.
    await call('/v1/admin/glossary', { method: 'PUT', headers: { ...bearer(ADMIN), 'content-type': 'application/json' }, body: '{"terms":[]}' }, vars())
    expect((await call('/v1/admin/schema/refresh', { method: 'POST', headers: bearer(ADMIN) }, vars())).status).toBe(200)
  })

  it('a question only a hidden table could answer is unanswerable, without naming the table and without calling the model', async () => {
    const question = '员工的月薪工资是多少'
    const hidden = await askAs(await token('sales_rep'), question, fence('SELECT salary FROM employees'))
    expect(hidden.called).toBe(false)
    const unanswerable = of(hidden.events, 'unanswerable')[0]!.data
    expect(unanswerable.source).toBe('linking')
    expect(JSON.stringify(unanswerable)).not.toMatch(/employees|员工花名册/)
    // The same question from a role that may read employees reaches the model.
    expect((await askAs(await token('analyst'), question, fence('SELECT name FROM employees'))).called).toBe(true)
  })
})

describe('Postgres enforces the role: grants and row-level security apply to the model\'s SQL', () => {
  it('a table the role may not read: refused by Postgres, no rows, and the repair round gets only that message', async () => {
    const { events, messages } = await askAs(await token('sales_rep'), '列出订单', fence('SELECT name, salary FROM employees'), { execute: true, repair: fence('SELECT name FROM employees') })
    expect(of(events, 'repair')[0]!.data).toEqual({ sql: 'SELECT name, salary FROM employees', error: 'permission denied for table employees' })
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: 'SELECT name FROM employees', ok: false, checked: true, error: 'permission denied for table employees', pg_code: '42501', repaired: true })
    expect(of(events, 'rows')).toEqual([])
    // The caller asked for rows: the result says why there are none, and nothing more.
    expect(of(events, 'result').map((e) => e.data)).toEqual([{ ok: false, code: 'check_failed', error: 'not run: the check refused the SQL: permission denied for table employees' }])
    // The repair request: the role's own prompt, the failing SQL, and Postgres's message — nothing more.
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(messages[0]!.content).not.toContain('salary')
    expect(messages[3]!.content).toBe('PostgreSQL 检查这条 SQL 时报错：permission denied for table employees。请找出原因并改正：先用一两句话说明，然后只给出一个改正后的 sql 代码块。')
  })

  it('a column the role may not read: refused by Postgres (SELECT * too); the columns it may read run', async () => {
    const analyst = await token('analyst')
    for (const sql of ['SELECT name, salary FROM employees', 'SELECT * FROM employees']) {
      const { events } = await askAs(analyst, '员工', fence(sql), { execute: true })
      expect(of(events, 'sql')[0]!.data, sql).toMatchObject({ ok: false, checked: true, pg_code: '42501', error: 'permission denied for table employees' })
      expect(of(events, 'rows')).toEqual([])
    }
    const { events } = await askAs(analyst, '员工', fence('SELECT name FROM employees ORDER BY id'), { execute: true })
    expect(of(events, 'rows')[0]!.data.rows).toEqual([['张三'], ['李四'], ['王五']])
  })

  it('tenant alpha sees only alpha\'s rows, beta only beta\'s, a token without a tenant none — in sequence', async () => {
    const sql = fence('SELECT tenant, customer FROM orders ORDER BY id')
    const rows = async (claims: Record<string, unknown>) => {
      const { events } = await askAs(await token('analyst', claims), '订单', sql, { execute: true })
      expect(of(events, 'result')[0]!.data).toMatchObject({ ok: true })
      return of(events, 'rows').flatMap((e) => e.data.rows)
    }
    const alpha = [['alpha', '阿尔法商贸'], ['alpha', '阿尔法物流']]
    const beta = [['beta', '贝塔科技'], ['beta', '贝塔能源'], ['beta', '贝塔重工']]
    expect(await rows({ tenant: 'alpha' })).toEqual(alpha)
    expect(await rows({ tenant: 'beta' })).toEqual(beta)
    expect(await rows({})).toEqual([])
    expect(await rows({ tenant: 'alpha' })).toEqual(alpha)
    // Through a view run with the caller's rights, the policy holds as well.
    const { events } = await askAs(await token('analyst', { tenant: 'beta' }), '各租户订单总额', fence('SELECT tenant, total FROM tenant_totals'), { execute: true })
    expect(of(events, 'rows')[0]!.data.rows).toEqual([['beta', '1099.00']])
  })

  it('hostile claims are data: never another tenant\'s row, never a broken session', async () => {
    const sql = fence('SELECT tenant, customer FROM orders')
    for (const tenant of ["alpha' OR '1'='1", "alpha'); SET ROLE postgres; --", 'alpha\\', 'a'.repeat(20_000), 'alpha\u0000', '\ud800', ['alpha'], { $ne: 'x' }, null]) {
      const { events } = await askAs(await token('analyst', { tenant, "'; DROP TABLE orders; --": 1 }), '订单', sql, { execute: true })
      expect(of(events, 'rows').flatMap((e) => e.data.rows), JSON.stringify(tenant).slice(0, 40)).toEqual([])
      expect(of(events, 'done')).toHaveLength(1)
    }
    const { events } = await askAs(await token('analyst', { tenant: 'beta' }), '订单', sql, { execute: true })
    expect(of(events, 'rows')[0]!.data.rows).toHaveLength(3)
    const owner = readConfig({ ...env, ...dbEnv('roles') }).database
    expect(await withDb(owner, (db) => db.query('SELECT count(*)::int AS n FROM orders'), 30_000)).toEqual([{ n: 5 }])
  })

  it('a role whose name is hostile text is assumed as exactly that role (a parameter, never SQL text)', async () => {
    // Its grants are exactly its own: departments, and not orders (which the login may read).
    const { events, prompt } = await askAs(await token(HOSTILE_ROLE), '部门', fence('SELECT name FROM departments ORDER BY id'), { execute: true })
    expect(of(events, 'rows')[0]!.data.rows).toEqual([['华东销售部'], ['研发中心']])
    expect(prompt).not.toContain('orders')
    const { events: denied } = await askAs(await token(HOSTILE_ROLE), '部门', fence('SELECT count(*) FROM orders'), { execute: true })
    expect(of(denied, 'sql')[0]!.data).toMatchObject({ ok: false, pg_code: '42501' })
  })

  it('a listed role the login cannot switch to: the SQL is reported unchecked with Postgres\'s reason, and nothing runs', async () => {
    const { events } = await askAs(await token('outsider'), '部门', fence('SELECT name FROM departments'), { execute: true })
    expect(of(events, 'sql')[0]!.data).toMatchObject({ checked: false, check_error: expect.stringMatching(/^database_permission_denied: .*permission denied to set role "outsider"/) })
    expect(of(events, 'rows')).toEqual([])
  })
})

describe('nothing leaks through figures: no plan_rows / plan_cost when the plan reads a table under row-level security', () => {
  const figures = (data: Record<string, unknown>) => ({ plan_rows: data.plan_rows, plan_cost: data.plan_cost })
  const postSql = (auth: string, sql: string) =>
    call('/v1/sql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(auth) }, body: JSON.stringify({ sql }) }, vars())

  it('/v1/ask: a tenant\'s answer on orders (and on the view over it) carries none; on departments it does — in sequence', async () => {
    const alpha = await token('analyst', { tenant: 'alpha' })
    const onOrders = await askAs(alpha, '订单数', fence('SELECT count(*) FROM orders'))
    const sqlEvent = of(onOrders.events, 'sql')[0]!.data
    expect(sqlEvent).toMatchObject({ ok: true, checked: true })
    expect(sqlEvent).not.toHaveProperty('plan_rows')
    expect(sqlEvent).not.toHaveProperty('plan_cost')
    const onView = await askAs(alpha, '总额', fence('SELECT total FROM tenant_totals'))
    expect(of(onView.events, 'sql')[0]!.data).not.toHaveProperty('plan_rows')
    const joined = await askAs(alpha, '部门订单', fence('SELECT d.name, o.customer FROM departments d JOIN orders o ON o.department_id = d.id'))
    expect(of(joined.events, 'sql')[0]!.data).not.toHaveProperty('plan_rows')
    const onDepartments = await askAs(alpha, '部门', fence('SELECT name FROM departments'))
    expect(figures(of(onDepartments.events, 'sql')[0]!.data)).toEqual({ plan_rows: expect.any(Number), plan_cost: expect.any(Number) })
  })

  it('for every caller, the service\'s own key included: the policy filters its login as well', async () => {
    const { events } = await askAs('service-key', '订单', fence('SELECT customer FROM orders'))
    expect(of(events, 'sql')[0]!.data).toMatchObject({ ok: true, checked: true })
    expect(of(events, 'sql')[0]!.data).not.toHaveProperty('plan_rows')
  })

  it('/v1/sql: the check on orders carries none, on departments it does', async () => {
    const beta = await token('sales_rep', { tenant: 'beta' })
    const onOrders = (await (await postSql(beta, 'SELECT * FROM orders')).json()) as { check: Record<string, unknown> }
    expect(onOrders.check).toEqual({ sql: 'SELECT * FROM orders', ok: true, checked: true })
    const onDepartments = (await (await postSql(beta, 'SELECT * FROM departments')).json()) as { check: Record<string, unknown> }
    expect(figures(onDepartments.check)).toEqual({ plan_rows: expect.any(Number), plan_cost: expect.any(Number) })
  })
})

describe('a role the SQL cannot leave', () => {
  type SqlBody = { check: { ok: boolean; pg_code?: string; error?: string }; result?: { ok: boolean }; rows?: unknown[][] }
  const runSql = async (auth: string, sql: string, extra: Record<string, string> = {}) => {
    const res = await call('/v1/sql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(auth) }, body: JSON.stringify({ sql, execute: true }) }, { ...vars(), ...extra })
    return { status: res.status, body: (await res.json()) as SqlBody }
  }
  // The session's role, login and claims through the owner's view (test/fixtures/db/roles.sql),
  // joined to a table the role must be granted.
  const WHO = 'SELECT role, login, claims FROM session_info.identity, departments LIMIT 1'
  const WITH_IDENTITY = { DB_SCHEMAS: 'public,session_info' }
  const roleUrls = (map: Record<string, string>) => ({ ...WITH_IDENTITY, DB_ROLES: 'analyst,sales_rep', DB_ROLE_URLS: JSON.stringify(map) })
  const OWN_LOGINS = () => roleUrls({ analyst: inject('databases').urls.rolesAnalyst!, sales_rep: inject('databases').urls.rolesSalesRep! })

  it('default set-up: SQL runs as the role on the shared login and reaches neither the login\'s grants nor another role\'s', async () => {
    const rep = await token('sales_rep', { tenant: 'beta' })
    expect((await runSql(rep, WHO, WITH_IDENTITY)).body.rows).toEqual([['sales_rep', 'roles_ro', expect.stringContaining('"tenant":"beta"')]])
    // employees: the login may read it, and so may analyst (a role the login is also a member of).
    const refused = await runSql(rep, 'SELECT name FROM employees')
    expect(refused.body.check).toMatchObject({ ok: false, pg_code: '42501', error: 'permission denied for table employees' })
    // analyst: salary is the login's grant, not the role's.
    expect((await runSql(await token('analyst'), 'SELECT salary FROM employees')).body.check).toMatchObject({ ok: false, pg_code: '42501' })
  })

  it('DB_ROLE_URLS: each role\'s SQL runs on its own login (current_user = session_user), with its claims, in sequence', async () => {
    const analyst = await token('analyst', { tenant: 'alpha' })
    const rep = await token('sales_rep', { tenant: 'beta' })
    expect((await runSql(analyst, WHO, OWN_LOGINS())).body.rows).toEqual([['analyst', 'analyst', expect.stringContaining('"tenant":"alpha"')]])
    expect((await runSql(rep, WHO, OWN_LOGINS())).body.rows).toEqual([['sales_rep', 'sales_rep', expect.stringContaining('"tenant":"beta"')]])
    // Row-level security still follows the claims on the role's own login.
    expect((await runSql(rep, 'SELECT tenant, customer FROM orders ORDER BY id', OWN_LOGINS())).body.rows).toEqual([['beta', '贝塔科技'], ['beta', '贝塔能源'], ['beta', '贝塔重工']])
    expect((await runSql(analyst, 'SELECT tenant FROM orders ORDER BY id', OWN_LOGINS())).body.rows).toEqual([['alpha'], ['alpha']])
    // sales_rep cannot reach analyst's grant on employees, nor the shared login's.
    expect((await runSql(rep, 'SELECT name FROM employees', OWN_LOGINS())).body.check).toMatchObject({ ok: false, pg_code: '42501' })
    expect((await runSql(analyst, 'SELECT name FROM employees ORDER BY id', OWN_LOGINS())).body.rows).toEqual([['张三'], ['李四'], ['王五']])
    // The service's own caller (an API key) keeps the shared read-only login.
    const service = await call('/v1/sql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer('service-key') }, body: JSON.stringify({ sql: WHO, execute: true }) }, { ...vars(), ...OWN_LOGINS() })
    const [serviceRow] = ((await service.json()) as SqlBody).rows!
    expect(serviceRow!.slice(0, 2)).toEqual(['roles_ro', 'roles_ro'])
    expect(serviceRow![2] ?? '').toBe('')
  })

  it('DB_ROLE_URLS: on a role\'s own login there is nothing to switch back to or up to', async () => {
    // The role's own login, the way this project reaches the database (a direct URL on both drivers).
    const config = { ...readConfig({ ...env, ...dbEnv('roles') }).database, url: inject('databases').urls.rolesSalesRep! }
    await withDb(config, async (db) => {
      await db.batch('BEGIN READ ONLY')
      // Back to the session's role: still sales_rep, and employees stays out of reach.
      expect(await db.query("SELECT set_config('role', 'none', true) AS reset, current_user::text AS who")).toEqual([{ reset: 'none', who: 'sales_rep' }])
      await expect(db.query('SELECT name FROM employees')).rejects.toMatchObject({ code: 'database_permission_denied' })
      await db.batch('ROLLBACK')
      await db.batch('BEGIN READ ONLY')
      // Up to another role: the login is a member of none.
      await expect(db.query("SELECT set_config('role', 'analyst', true)")).rejects.toMatchObject({ code: 'database_permission_denied', message: expect.stringMatching(/permission denied to set role "analyst"/) })
      await db.batch('ROLLBACK')
    }, 30_000)
  })

  it('DB_ROLE_URLS naming another role\'s login for a role: refused as misconfigured, nothing runs', async () => {
    const swapped = roleUrls({ analyst: inject('databases').urls.rolesSalesRep!, sales_rep: inject('databases').urls.rolesSalesRep! })
    const { status, body } = await runSql(await token('analyst'), WHO, swapped)
    expect(status).toBe(500)
    expect(body).toMatchObject({ error: { code: 'server_misconfigured', message: expect.stringContaining('DB_ROLE_URLS') } })
    expect(JSON.stringify(body)).not.toContain('sales-rep-pw')
  })
})

describe('behind PgBouncer in transaction mode (one server session shared by every client)', () => {
  const pooled = () => 'rolesReadonlyPooled'
  const session = () =>
    withDb(
      readConfig({ ...env, ...dbEnv('rolesReadonlyPooled') }).database,
      (db) =>
        db.query<{ pid: number; who: string; role: string; claims: string | null; orders: number }>(
          "SELECT pg_backend_pid() AS pid, current_user AS who, current_setting('role') AS role, current_setting('request.jwt.claims', true) AS claims, (SELECT count(*)::int FROM orders) AS orders",
        ),
      30_000,
    ).then((rows) => rows[0]!)

  it('nothing of a role or its claims survives into the next transaction on the same server session', async () => {
    const before = await session()
    const sql = fence('SELECT tenant, customer FROM orders ORDER BY id')
    for (const tenant of ['alpha', 'beta']) {
      const { events } = await askAs(await token('analyst', { tenant }), '订单', sql, { execute: true, readonly: pooled() })
      expect(of(events, 'rows')[0]!.data.rows.every((r: string[]) => r[0] === tenant)).toBe(true)
    }
    // A failed check under a role must not leave it behind either.
    await askAs(await token('sales_rep', { tenant: 'alpha' }), '员工', fence('SELECT salary FROM employees'), { execute: true, readonly: pooled() })
    const after = await session()
    // The same server session, itself again: no role, claims read '' (not NULL) — the policy's
    // nullif form then matches no row instead of failing.
    expect(after).toEqual({ pid: before.pid, who: 'roles_ro', role: 'none', claims: '', orders: 0 })
    // The service's own caller on that session: orders are filtered for the login too.
    const { events } = await askAs('service-key', '订单', sql, { execute: true, readonly: pooled() })
    expect(of(events, 'result')[0]!.data).toMatchObject({ ok: true, row_count: 0 })
  })

  it('a check straight through the pooler as a role, then one as the login, each sees only its own', async () => {
    const config = readConfig({ ...env, ...dbEnv('rolesReadonlyPooled') }).database
    const opts = { schemas: ['public'], checkTimeoutMs: 2000, executeTimeoutMs: 2000, maxRows: 50, maxBytes: 65_536, execute: true }
    // Who the session is shows in what it may read: the tenant policy under the role's claims
    // (alpha's two orders), none for the login without claims, and employees.salary not for analyst.
    const sql = 'SELECT count(*)::int FROM orders'
    const asRole = await withDb(config, (db) => checkAndRun(db, sql, { ...opts, as: { role: 'analyst', claims: '{"tenant":"alpha"}' } }), 30_000)
    const asLogin = await withDb(config, (db) => checkAndRun(db, sql, opts), 30_000)
    const salaryAsRole = await withDb(config, (db) => checkAndRun(db, 'SELECT salary FROM employees', { ...opts, as: { role: 'analyst', claims: '{"tenant":"alpha"}' } }), 30_000)
    const salaryAsLogin = await withDb(config, (db) => checkAndRun(db, 'SELECT count(salary)::int FROM employees', opts), 30_000)
    expect([asRole.run, asLogin.run, salaryAsRole.check, salaryAsLogin.run]).toMatchObject([
      { ok: true, rows: [[2]] },
      { ok: true, rows: [[0]] },
      { ok: false, pg_code: '42501' },
      { ok: true, rows: [[3]] },
    ])
  })
})

describe('feedback and the audit line follow the caller', () => {
  it('feedback is tied to the token\'s subject: a refreshed token of the same sub may give it, another sub may not', async () => {
    const m = model(fence('SELECT name FROM departments'))
    const res = await ask({ question: '部门有哪些' }, { ...vars(), DASHSCOPE_BASE_URL: m.DASHSCOPE_BASE_URL }, bearer(await token('analyst', { jti: 'first' })))
    const requestId = res.headers.get('x-request-id')!
    await readEvents(res.body!)
    const feedback = async (claims: Record<string, unknown>) =>
      call('/v1/feedback', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(await hsToken(claims)) }, body: JSON.stringify({ request_id: requestId, correct: false }) }, vars())
    let mine = await feedback({ sub: 'alice', role: 'analyst', jti: 'second' })
    // The record is written in the background after the answer.
    for (let i = 0; i < 50 && mine.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 20))
      mine = await feedback({ sub: 'alice', role: 'analyst', jti: 'second' })
    }
    expect(mine.status).toBe(202)
    expect((await feedback({ sub: 'bob', role: 'analyst' })).status).toBe(404)
  })

  it('one JSON line per answer: who, which role, the SQL\'s hash, the verdict, the relations read, the rows — no token, no other claim', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
    const jwt = await token('analyst', { tenant: 'alpha', email: 'alice@example.com' })
    const sql = 'SELECT o.customer, d.name FROM orders o JOIN departments d ON d.id = o.department_id'
    await askAs(jwt, '阿尔法的订单', fence(sql), { execute: true })
    await askAs(jwt, '员工的工资', fence('SELECT salary FROM employees'))
    await askAs('service-key', '员工的工资', fence('SELECT salary FROM employees'))
    const [ok, refused, service] = lines.map((l) => JSON.parse(l))
    expect(lines).toHaveLength(3)
    expect(ok).toMatchObject({ path: '/v1/ask', status: 200, caller: 'sub:alice', role: 'analyst', sql_hash: (await sha256Hex(sql)).slice(0, 16), sql_check: 'passed', relations: expect.arrayContaining(['public.orders', 'public.departments']), rows: 2 })
    expect(ok.relations).toHaveLength(2)
    expect(refused).toMatchObject({ caller: 'sub:alice', role: 'analyst', sql_check: 'refused', sql_refusal: '42501', relations: [] })
    expect(refused.rows).toBeUndefined()
    expect(service).toMatchObject({ caller: expect.stringMatching(/^key:[0-9a-f]{24}$/), role: null, sql_check: 'passed', relations: ['public.employees'] })
    for (const line of lines) {
      for (const secret of [jwt, jwt.split('.')[1]!, 'alice@example.com', '"alpha"', 'service-key', '阿尔法的订单', '员工的工资']) expect(line).not.toContain(secret)
    }
  })
})
