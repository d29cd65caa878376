import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { call, dbEnv, fakeUrl } from './support/app'
import { bearer, hsToken, JWT_SECRET } from './support/tokens'

// The MCP tools under a JWT caller's role (test/fixtures/db/roles.sql): the same view and the same
// database rules as /v1/ask — sales_rep may not read employees, orders are per tenant.
const ADMIN = 'mcp-roles-admin'
const vars = () => ({
  ...dbEnv('roles', { DATABASE_URL_READONLY: inject('databases').urls.rolesReadonly! }),
  JWT_SECRET,
  DB_ROLES: 'analyst,sales_rep',
  ADMIN_TOKEN: ADMIN,
  SQL_EXECUTE: 'true',
})
type Text = { type: 'text'; text: string }

async function connectAs(token: string, overrides: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'mcp-roles-test', version: '1.0.0' })
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://edge.test/mcp'), {
      fetch: (input, init) => call(new URL(String(input instanceof Request ? input.url : input)).pathname, init, { ...vars(), ...overrides }),
      requestInit: { headers: bearer(token) },
    }),
  )
  return client
}

beforeAll(async () => {
  const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: bearer(ADMIN) }, vars())
  expect(res.status, await res.clone().text()).toBe(200)
})

describe('MCP tools under a caller\'s database role', () => {
  it('describe_schema shows only what the role may read', async () => {
    const client = await connectAs(await hsToken({ sub: 'bob', role: 'sales_rep', tenant: 'beta' }))
    const result = await client.callTool({ name: 'describe_schema', arguments: {} })
    const names = (result.structuredContent as { tables: { name: string }[] }).tables.map((t) => t.name)
    expect(names).not.toContain('employees')
    expect(names).toContain('orders')
    expect((result.content as Text[])[0]!.text).not.toMatch(/employees|salary|工资/)
    // Naming the hidden table does not reveal it either.
    const hidden = await client.callTool({ name: 'describe_schema', arguments: { tables: ['employees'] } })
    expect((hidden.structuredContent as { tables: unknown[] }).tables).toEqual([])
    await client.close()
  })

  it('run_sql: Postgres refuses a table the role may not read; a tenant sees only its rows', async () => {
    const beta = await connectAs(await hsToken({ sub: 'bob', role: 'sales_rep', tenant: 'beta' }))
    const refused = await beta.callTool({ name: 'run_sql', arguments: { sql: 'SELECT name, salary FROM employees' } })
    expect(refused.isError).toBe(true)
    expect((refused.structuredContent as { check: { pg_code: string } }).check.pg_code).toBe('42501')
    const rows = await beta.callTool({ name: 'run_sql', arguments: { sql: 'SELECT tenant, customer FROM orders ORDER BY id' } })
    expect((rows.structuredContent as { rows: string[][] }).rows).toEqual([['beta', '贝塔科技'], ['beta', '贝塔能源'], ['beta', '贝塔重工']])
    await beta.close()
    const alpha = await connectAs(await hsToken({ sub: 'amy', role: 'analyst', tenant: 'alpha' }))
    const alphaRows = await alpha.callTool({ name: 'run_sql', arguments: { sql: 'SELECT tenant, customer FROM orders ORDER BY id' } })
    expect((alphaRows.structuredContent as { rows: string[][] }).rows).toEqual([['alpha', '阿尔法商贸'], ['alpha', '阿尔法物流']])
    // The figures of a plan over a table under row-level security are withheld (other tenants' volume).
    expect((alphaRows.structuredContent as { check: Record<string, unknown> }).check).toEqual({ sql: 'SELECT tenant, customer FROM orders ORDER BY id', ok: true, checked: true })
    await alpha.close()
  })

  it('ask: the prompt holds only the role\'s tables, and the run is the tenant\'s', async () => {
    const answer = '我来写查询。\n```sql\nSELECT customer FROM orders ORDER BY id\n```'
    const client = await connectAs(await hsToken({ sub: 'bob', role: 'sales_rep', tenant: 'beta' }), { DASHSCOPE_BASE_URL: fakeUrl(`answer=${encodeURIComponent(answer)}`) })
    const result = await client.callTool({ name: 'ask', arguments: { question: '各个客户的订单', execute: true } })
    const data = result.structuredContent as { tables: string[]; rows: string[][] }
    expect(data.tables).not.toContain('employees')
    expect(data.rows).toEqual([['贝塔科技'], ['贝塔能源'], ['贝塔重工']])
    await client.close()
  })

  it('a token naming a role the service does not allow is refused at /mcp', async () => {
    const token = await hsToken({ sub: 'eve', role: 'postgres' })
    const res = await call('/mcp', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(token) }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' }, vars())
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('role_not_allowed')
  })
})
