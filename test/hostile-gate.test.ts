import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { openDb, withDb, type Db } from '../src/db/connect'
import { GATE_CORPUS, type GateCase } from './fixtures/hostile-sql'
import { fence, isLongAnswer, longAnswerQuestion } from './fixtures/long-model-answers'
import { ask, call, dbEnv, dbEnvWithReadonly, fakeUrl } from './support/app'
import { readEvents, readText } from './support/streams'
import { bearer, hsToken, JWT_SECRET } from './support/tokens'

// Issue 30's attacker: every statement of the corpus (test/fixtures/hostile-sql.ts, GATE_CORPUS)
// through POST /v1/sql as an API-key caller and as two JWT roles over the tenant RLS fixture
// (test/fixtures/db/roles.sql), on this project's driver (the suite runs in `workers` and
// `workers-hyperdrive`); one statement of each class through /v1/ask (with its repair round),
// /getAnwser, MCP run_sql and MCP ask. Each is refused with its rule; afterwards nothing changed:
// no role, claims, lock or other session was touched, and each caller still reads exactly its own.
const ADMIN = 'gate-admin'
const vars = (extra: Record<string, string> = {}) => ({
  ...dbEnvWithReadonly('roles', 'rolesReadonly'),
  JWT_SECRET,
  DB_ROLES: 'analyst,sales_rep',
  ADMIN_TOKEN: ADMIN,
  API_KEYS: 'service-key',
  SQL_EXECUTE: 'true',
  ...extra,
})

/** What each rule's refusal says (src/sql/admission/admit-sql.ts; `plan`: src/sql/plan-guard.ts). */
const RULE_ERRORS: Record<string, RegExp> = {
  function: /^function \S+ is not allowed$/,
  statement: /^(only SELECT statements are admitted|no SQL statement was given)/,
  one_statement: /^exactly one statement is admitted$/,
  data_modifying: /^data-modifying statements are not admitted/,
  locking: /^locking clauses \(FOR UPDATE\/SHARE\) are not admitted$/,
  into: /^SELECT … INTO is not admitted$/,
  value_function: /^[A-Z_]+ is not allowed$/,
  type: /^type \w+ is not allowed$/,
  operator: /^operator \S+ is not allowed/,
  xml: /^XML functions are not admitted$/,
  tablesample: /^TABLESAMPLE method \S+ is not allowed$/,
  relation: /^relation \S+ is not admitted/,
  huge_constant: /^the query builds a constant of up to \d+ bytes/,
  too_complex: /^the query nests too deeply to be checked/,
  plan: /outside the business schemas/,
  syntax: /^syntax error/,
}

function expectRefused(c: GateCase, check: { ok: boolean; error?: string } | undefined) {
  expect(check, c.sql).toMatchObject({ ok: false })
  // toMatch(undefined) passes: every rule of the corpus needs its message here.
  expect(RULE_ERRORS[c.rule], `no message for rule ${c.rule}`).toBeInstanceOf(RegExp)
  expect(check!.error, c.sql).toMatch(RULE_ERRORS[c.rule]!)
  if (c.name) expect(check!.error, c.sql).toContain(`function ${c.name} is not allowed`)
}

type Caller = { name: string; auth: () => Promise<string>; sees: unknown[][]; employees: 'rows' | 'denied' }
const CALLERS: Caller[] = [
  // The service key: the login itself, no claims — the tenant policy shows it no orders.
  { name: 'an API-key caller', auth: async () => 'service-key', sees: [], employees: 'rows' },
  { name: 'the analyst role of tenant alpha', auth: () => hsToken({ sub: 'amy', role: 'analyst', tenant: 'alpha' }), sees: [['alpha', 2]], employees: 'denied' },
  { name: 'the sales_rep role of tenant beta', auth: () => hsToken({ sub: 'bob', role: 'sales_rep', tenant: 'beta' }), sees: [['beta', 3]], employees: 'denied' },
]

const owner = () => readConfig({ ...env, ...dbEnv('roles') }).database
const asOwner = <R = Record<string, unknown>>(sql: string) => withDb(owner(), (db) => db.query<R>(sql), 30_000)
const postSql = async (auth: string, sql: string, execute = true) =>
  call('/v1/sql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(auth) }, body: JSON.stringify({ sql, execute }) }, vars())

// A session of the owner's that lives through the whole corpus: nothing may end it.
let sentinel: Db
let sentinelPid: number

beforeAll(async () => {
  const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: bearer(ADMIN) }, vars())
  expect(res.status, await res.clone().text()).toBe(200)
  sentinel = await openDb(owner())
  sentinelPid = (await sentinel.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid
})

afterAll(async () => {
  await sentinel?.end()
})

/** What must hold after the corpus, seen by the owner and by the caller through the service. */
async function expectNothingChanged(caller: Caller, auth: string) {
  expect(await asOwner('SELECT tenant, count(*)::int AS n FROM orders GROUP BY tenant ORDER BY tenant')).toEqual([{ tenant: 'alpha', n: 2 }, { tenant: 'beta', n: 3 }])
  expect(await asOwner("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).toEqual([{ n: 0 }])
  expect(await asOwner("SELECT count(*)::int AS n FROM pg_prepared_xacts")).toEqual([{ n: 0 }])
  expect((await sentinel.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid).toBe(sentinelPid)
  // The service keeps serving, as this caller's own role and claims.
  const mine = await (await postSql(auth, 'SELECT tenant, count(*)::int FROM orders GROUP BY tenant ORDER BY tenant')).json<{ rows?: unknown[][] }>()
  expect(mine.rows).toEqual(caller.sees)
  const salaries = await (await postSql(auth, 'SELECT count(salary)::int FROM employees')).json<{ check: { ok: boolean; pg_code?: string }; rows?: unknown[][] }>()
  if (caller.employees === 'rows') expect(salaries.rows).toEqual([[3]])
  else expect(salaries.check).toMatchObject({ ok: false, pg_code: '42501' })
}

describe(`the hostile corpus (${GATE_CORPUS.length} statements) through POST /v1/sql`, () => {
  it('holds at least 200 statements in named classes', () => {
    expect(GATE_CORPUS.length).toBeGreaterThanOrEqual(200)
    expect(new Set(GATE_CORPUS.map((c) => c.cls)).size).toBeGreaterThanOrEqual(10)
  })

  for (const caller of CALLERS) {
    it(`${caller.name}: every statement is refused with its rule, and nothing changed afterwards`, { timeout: 180_000 }, async () => {
      const auth = await caller.auth()
      for (const c of GATE_CORPUS) {
        const res = await postSql(auth, c.sql)
        expect(res.status, c.sql).toBe(200)
        const body = await res.json<{ check: { ok: boolean; error?: string }; rows?: unknown }>()
        expectRefused(c, body.check)
        expect(body.rows, c.sql).toBeUndefined()
      }
      await expectNothingChanged(caller, auth)
    })
  }
})

// One statement of each class through the slower paths.
const SLICE = [...new Map(GATE_CORPUS.filter((c) => c.sql.trim() !== ';').map((c) => [c.cls, c])).values()]
// The model answers with the statement: in the fake's URL, or for a statement too long for a URL
// (the 20,000-term chain), by the question the fake was started with (long-model-answers.ts).
const model = (sql: string) => (isLongAnswer(sql) ? fakeUrl() : fakeUrl(`answer=${encodeURIComponent(fence(sql))},repair=${encodeURIComponent(fence(sql))}`))
const questionFor = (sql: string) => (isLongAnswer(sql) ? longAnswerQuestion(sql) : '各租户订单数')

async function connectAs(token: string, overrides: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'hostile-gate-test', version: '1.0.0' })
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://edge.test/mcp'), {
      fetch: (input, init) => call(new URL(String(input instanceof Request ? input.url : input)).pathname, init, vars(overrides)),
      requestInit: { headers: bearer(token) },
    }),
  )
  return client
}

describe(`one statement of each of the ${SLICE.length} classes through /v1/ask, /getAnwser and MCP`, () => {
  for (const caller of CALLERS.slice(0, 2)) {
    it(`/v1/ask as ${caller.name}: the model's SQL and its repair are both refused with the rule, and no rows are sent`, { timeout: 120_000 }, async () => {
      const auth = await caller.auth()
      for (const c of SLICE) {
        const res = await ask({ question: questionFor(c.sql), execute: true }, vars({ DASHSCOPE_BASE_URL: model(c.sql) }), bearer(auth))
        const events = await readEvents(res.body!)
        const sql = events.filter((e) => e.event === 'sql')
        expect(sql.length, c.sql).toBe(1)
        expectRefused(c, sql[0]!.data)
        expect(events.filter((e) => e.event === 'repair')[0]?.data.error, c.sql).toMatch(RULE_ERRORS[c.rule]!)
        expect(events.some((e) => e.event === 'rows'), c.sql).toBe(false)
      }
      await expectNothingChanged(caller, auth)
    })
  }

  it('/getAnwser as an API-key caller: the refusal is told in plain text', { timeout: 120_000 }, async () => {
    for (const c of SLICE) {
      const res = await call('/getAnwser', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer('service-key') }, body: JSON.stringify({ question: questionFor(c.sql) }) }, vars({ DASHSCOPE_BASE_URL: model(c.sql) }))
      const text = await readText(res.body!)
      const told = /SQL 校验未通过：(.*)。修正如下/.exec(text)
      expect(told?.[1], `${c.sql}\n${text}`).toMatch(RULE_ERRORS[c.rule]!)
    }
    await expectNothingChanged(CALLERS[0]!, 'service-key')
  })

  it('MCP run_sql and ask as the sales_rep role: refused with the rule, no rows', { timeout: 120_000 }, async () => {
    const token = await CALLERS[2]!.auth()
    for (const c of SLICE) {
      const client = await connectAs(token, { DASHSCOPE_BASE_URL: model(c.sql) })
      const run = await client.callTool({ name: 'run_sql', arguments: { sql: c.sql, execute: true } })
      expect(run.isError, c.sql).toBe(true)
      expectRefused(c, (run.structuredContent as { check: { ok: boolean; error: string } }).check)
      const asked = await client.callTool({ name: 'ask', arguments: { question: questionFor(c.sql), execute: true } })
      const data = asked.structuredContent as { check?: { ok: boolean; error: string }; rows?: unknown[] }
      expect(JSON.stringify(asked.structuredContent), c.sql).toMatch(new RegExp(RULE_ERRORS[c.rule]!.source.replace(/^\^|\$$/g, '')))
      expect(data.rows ?? [], c.sql).toEqual([])
      await client.close()
    }
    await expectNothingChanged(CALLERS[2]!, token)
  })
})
