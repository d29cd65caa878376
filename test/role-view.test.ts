import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { linkIndexFor } from '../src/linking/index-cache'
import { scoreTables } from '../src/linking/select-schema'
import { buildPrompt } from '../src/prompt/build-prompt'
import { checkRoleViews, cutToRole, snapshotForRole } from '../src/schema/role-view'
import { gunzipText } from '../src/schema/bytes'
import { createSnapshotCache } from '../src/schema/snapshot-cache'
import type { Snapshot } from '../src/schema/snapshot-schema'
import { BODY_PREFIX, readPointerFrom, readStoredSnapshot, saveSnapshot } from '../src/schema/snapshot-store'
import { AppError } from '../src/errors'
import { loadParser } from '../src/sql/admission/pg-parser'
import { call } from './support/app'

// A company schema: HR data some roles may not read, a tenant-filtered table, a glossary and examples.
function company(version = `company-${crypto.randomUUID()}`): Snapshot {
  return {
    version,
    source: 'introspection',
    dialect: 'postgresql',
    tables: [
      { schema: 'public', name: 'departments', kind: 'table', comment: '部门', row_estimate: 2, columns: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text', comment: '部门名称', samples: ['华东销售部'] }], primary_key: ['id'] },
      {
        schema: 'public',
        name: 'employees',
        kind: 'table',
        comment: '员工花名册',
        row_estimate: 3,
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'name', type: 'text', comment: '员工姓名', samples: ['张三'] },
          { name: 'department_id', type: 'integer' },
          { name: 'salary', type: 'numeric(10,2)', comment: '月薪工资' },
          { name: 'badge', type: 'text' },
        ],
        primary_key: ['id'],
        unique: [['badge'], ['name', 'salary']],
        foreign_keys: [{ columns: ['department_id'], ref_schema: 'public', ref_table: 'departments', ref_columns: ['id'] }],
      },
      {
        schema: 'public',
        name: 'orders',
        kind: 'table',
        comment: '销售订单',
        row_estimate: 5,
        row_security: true,
        columns: [{ name: 'id', type: 'integer' }, { name: 'tenant', type: 'text', samples: ['alpha', 'beta'] }, { name: 'customer', type: 'text', comment: '客户名称', samples: ['阿尔法商贸'] }, { name: 'seller_id', type: 'integer' }],
        foreign_keys: [{ columns: ['seller_id'], ref_schema: 'public', ref_table: 'employees', ref_columns: ['id'] }],
      },
      { schema: 'hr', name: 'reviews', kind: 'table', comment: '绩效评估', columns: [{ name: 'employee_id', type: 'integer' }, { name: 'score', type: 'integer' }] },
    ],
    examples: [
      { question: '各部门人数', sql: 'SELECT d.name, count(*) FROM employees e JOIN departments d ON d.id = e.department_id GROUP BY 1' },
      { question: '平均工资', sql: 'SELECT avg(salary) FROM employees' },
      { question: '最高绩效', sql: 'SELECT max(score) FROM hr.reviews' },
      { question: '订单客户', sql: "SELECT customer FROM orders WHERE customer <> 'salary'" },
      { question: '引号里的工资', sql: 'SELECT "SALARY" FROM "employees"' },
    ],
    glossary: [
      { term: '人头', definition: '员工人数', tables: ['employees'] },
      { term: '人力成本', definition: '月薪之和', columns: ['employees.salary'] },
      { term: '绩效', definition: '评估分数', columns: ['hr.reviews.score'] },
      { term: '大客户', definition: '订单多的客户', columns: ['orders.customer'] },
    ],
    roles: [
      { name: 'analyst', tables: [{ schema: 'public', name: 'departments' }, { schema: 'public', name: 'employees', columns: ['id', 'name', 'department_id', 'badge'] }, { schema: 'public', name: 'orders' }] },
      { name: 'sales_rep', tables: [{ schema: 'public', name: 'departments' }, { schema: 'public', name: 'orders' }] },
      { name: 'nobody', tables: [] },
    ],
  }
}

// Examples are chosen on Postgres's parse of their SQL: the parser is loaded once per isolate.
beforeAll(() => loadParser())

const role = (s: Snapshot, name: string) => cutToRole(s, s.roles!.find((r) => r.name === name)!)

describe('a role\'s view of the snapshot', () => {
  it('keeps exactly the tables and columns the role may read, and no other role\'s view', () => {
    const view = role(company(), 'analyst')
    expect(view.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['public.departments', 'public.employees', 'public.orders'])
    expect(view.tables[1]!.columns.map((c) => c.name)).toEqual(['id', 'name', 'department_id', 'badge'])
    expect(view.roles).toBeUndefined()
    expect(role(company(), 'nobody').tables).toEqual([])
  })

  it('drops keys that name a hidden column and foreign keys to a hidden table', () => {
    const analyst = role(company(), 'analyst')
    const employees = analyst.tables.find((t) => t.name === 'employees')!
    expect(employees.unique).toEqual([['badge']])
    expect(employees.foreign_keys).toEqual([{ columns: ['department_id'], ref_schema: 'public', ref_table: 'departments', ref_columns: ['id'] }])
    expect(analyst.tables.find((t) => t.name === 'orders')!.foreign_keys).toEqual([{ columns: ['seller_id'], ref_schema: 'public', ref_table: 'employees', ref_columns: ['id'] }])
    // sales_rep cannot read employees: the orders → employees key would name it.
    expect(role(company(), 'sales_rep').tables.find((t) => t.name === 'orders')!.foreign_keys).toBeUndefined()
  })

  it('a table whose rows are filtered per caller shows no sample values and no row estimate; others keep theirs', () => {
    const view = role(company(), 'sales_rep')
    const orders = view.tables.find((t) => t.name === 'orders')!
    expect(orders.columns.flatMap((c) => c.samples ?? [])).toEqual([])
    expect(orders.row_estimate).toBeNull()
    expect(view.tables.find((t) => t.name === 'departments')!.columns[1]!.samples).toEqual(['华东销售部'])
  })

  it('glossary entries and examples that name anything hidden are left out', () => {
    const analyst = role(company(), 'analyst')
    expect(analyst.glossary!.map((e) => e.term)).toEqual(['人头', '大客户'])
    expect(analyst.examples.map((e) => e.question)).toEqual(['各部门人数', '订单客户'])
    const sales = role(company(), 'sales_rep')
    expect(sales.glossary!.map((e) => e.term)).toEqual(['大客户'])
    expect(sales.examples.map((e) => e.question)).toEqual(['订单客户'])
  })

  it('an example naming a hidden table in any spelling, or a table the snapshot does not know, is never shown; a CTE named like a table is not one', () => {
    const s = company()
    s.examples = [
      { question: 'U& 转义', sql: 'SELECT count(*) FROM U&"\\0065mployees"' },
      { question: '注释与大小写', sql: 'SELECT count(*) FROM /* departments */ PUBLIC.Employees' },
      { question: '子查询', sql: 'SELECT name FROM departments WHERE id IN (SELECT department_id FROM "employees")' },
      { question: '未知表', sql: 'SELECT * FROM pg_authid' },
      { question: '同名 CTE', sql: 'WITH employees AS (SELECT id FROM departments) SELECT count(*) FROM employees' },
      { question: 'CTE 读真表', sql: 'WITH employees AS (SELECT id FROM employees) SELECT count(*) FROM employees' },
      { question: '不能解析', sql: 'SELECT FROM WHERE departments' },
    ]
    expect(role(s, 'sales_rep').examples.map((e) => e.question)).toEqual(['同名 CTE'])
    expect(role(s, 'analyst').examples.map((e) => e.question)).toEqual(['U& 转义', '注释与大小写', '子查询', '同名 CTE', 'CTE 读真表'])
  })

  it('an unqualified glossary reference does not slide onto another schema\'s table of the same name', () => {
    const s = company()
    s.tables.push({ schema: 'archive', name: 'employees', kind: 'table', columns: [{ name: 'id', type: 'integer' }] })
    s.roles!.push({ name: 'archivist', tables: [{ schema: 'archive', name: 'employees' }] })
    expect(role(s, 'archivist').glossary).toBeUndefined()
  })

  it('the prompt built from it names nothing hidden', () => {
    const { messages, tables } = buildPrompt({ question: '各部门的员工和人力成本', snapshot: role(company(), 'sales_rep') })
    expect(tables).toEqual(['departments', 'orders'])
    // ('salary' stays, as a string in the one example shown: data, not a column.)
    for (const hidden of ['employees', '月薪', 'reviews', '绩效', '阿尔法商贸', 'avg(', '人力成本']) expect(messages[0]!.content, hidden).not.toContain(hidden)
  })

  it('a role the snapshot does not record is 503 schema_unavailable; the same view object serves every request', () => {
    const s = company()
    expect(() => snapshotForRole(s, 'ghost')).toThrow(AppError)
    expect(snapshotForRole(s, 'analyst')).toBe(snapshotForRole(s, 'analyst'))
  })

  it('an uploaded snapshot\'s roles must name its own tables and columns', () => {
    const s = company()
    s.roles!.push({ name: 'analyst', tables: [{ schema: 'public', name: 'payroll' }, { schema: 'public', name: 'orders', columns: ['amount'] }] })
    expect(checkRoleViews(s)).toEqual(['role analyst: given twice', 'role analyst: no table public.payroll', 'role analyst: no column public.orders.amount'])
    expect(checkRoleViews(company())).toEqual([])
  })
})

describe('an uploaded snapshot with roles (PUT /v1/admin/schema)', () => {
  const put = (snapshot: unknown) =>
    call('/v1/admin/schema', { method: 'PUT', headers: { authorization: 'Bearer up', 'content-type': 'application/json' }, body: JSON.stringify(snapshot) }, { ADMIN_TOKEN: 'up' })

  it('is refused when a role names a table or column it lacks, and stored (roles in the pointer) when they fit', async () => {
    const bad = company()
    bad.roles![0]!.tables.push({ schema: 'public', name: 'payroll' })
    const refused = await put(bad)
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'invalid_request', message: expect.stringContaining('role analyst: no table public.payroll') })
    expect((await put(company())).status).toBe(200)
    expect((await readPointerFrom(env.SCHEMA_KV))!.roles).toEqual(['analyst', 'sales_rep', 'nobody'])
  })
})

describe('the stored snapshot carries each role\'s link index', () => {
  const kv = env.SCHEMA_KV
  const fresh = () => createSnapshotCache(readStoredSnapshot).load(kv, { cacheTtlSeconds: 0 })
  const values = [
    { schema: 'public', table: 'orders', column: 'customer', values: ['阿尔法商贸', '贝塔科技'] },
    { schema: 'public', table: 'departments', column: 'name', values: ['华东销售部', '研发中心'] },
    { schema: 'public', table: 'employees', column: 'name', values: ['张三', '李四'] },
  ]

  it('built from the role\'s columns and the values it may see: never rows of a table filtered per caller', async () => {
    const s = company()
    await saveSnapshot(kv, s, { linking: { values } })
    const pointer = await readPointerFrom(kv)
    expect(pointer!.roles).toEqual(['analyst', 'sales_rep', 'nobody'])
    const stored = JSON.parse(await gunzipText(new Uint8Array((await kv.get(`${BODY_PREFIX}${pointer!.body}:0`, 'arrayBuffer'))!)))
    expect(Object.keys(stored.role_link_indexes)).toEqual(['analyst', 'sales_rep', 'nobody'])
    const loaded = await fresh()
    const service = scoreTables(linkIndexFor(loaded), '贝塔科技的订单')
    const sales = snapshotForRole(loaded, 'sales_rep')
    const salesIndex = linkIndexFor(sales)
    // The role's view uses the stored index (its values), not one rebuilt without them.
    expect(salesIndex).toEqual(stored.role_link_indexes.sales_rep)
    expect(service.values.map((v) => v.value)).toContain('贝塔科技')
    expect(scoreTables(salesIndex, '贝塔科技的订单').values).toEqual([])
    expect(scoreTables(salesIndex, '研发中心有多少订单').values.map((v) => v.value)).toEqual(['研发中心'])
  })

  it("a snapshot stored before roles existed still loads and answers its service callers; a role's caller is told to refresh", async () => {
    const { roles: _none, ...old } = company()
    await saveSnapshot(kv, old)
    const loaded = await fresh()
    expect(loaded.roles).toBeUndefined()
    expect(buildPrompt({ question: '员工', snapshot: loaded }).tables).toContain('public.employees')
    expect(() => snapshotForRole(loaded, 'analyst')).toThrow(/records nothing about this role/)
  })
})
