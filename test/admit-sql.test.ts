import { describe, expect, it } from 'vitest'
import { admitSql } from '../src/sql/admission/admit-sql'

const admitted: [string, string][] = [
  ['a plain aggregate', 'SELECT count(*), avg(fare) FROM trips WHERE day >= 1'],
  ['VALUES', "VALUES (1, 'a'), (2, 'b')"],
  ['WITH … SELECT and set operations', 'WITH a AS (SELECT 1 AS x) SELECT x FROM a UNION ALL SELECT 2'],
  ['a recursive CTE', 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT sum(i) FROM n'],
  ['window functions with FILTER', 'SELECT rank() OVER (PARTITION BY a ORDER BY b), count(*) FILTER (WHERE c > 1) OVER () FROM t'],
  ['SQL-standard syntax that parses as calls', "SELECT EXTRACT(year FROM d), SUBSTRING(s FROM 1 FOR 2), TRIM(s), POSITION('a' IN s), d AT TIME ZONE 'UTC', s SIMILAR TO 'a%', s LIKE 'a!%' ESCAPE '!' FROM t"],
  ['the clock', 'SELECT CURRENT_DATE, CURRENT_TIMESTAMP, now(), LOCALTIMESTAMP(2)'],
  ['pg_catalog-qualified and quoted allowed names', 'SELECT pg_catalog.count(*), "upper"(x), U&"\\006Cower"(x) FROM t'],
  ['generate_series and unnest in FROM', 'SELECT * FROM generate_series(1, 10) g, unnest(ARRAY[1,2]) u'],
  ['casts, including to business types', "SELECT x::numeric(10,2), CAST(y AS date), 'a'::public.mood, date(z), int8(w) FROM t"],
  ['JSON', "SELECT jsonb_build_object('a', 1) ->> 'a', j #>> '{a,b}', jsonb_array_elements(j) FROM t"],
  ['TABLESAMPLE SYSTEM', 'SELECT * FROM t TABLESAMPLE SYSTEM (10)'],
  ['a small repeat (a bar chart)', "SELECT repeat('#', (n * 20 / 100)::int) FROM (SELECT count(*) AS n FROM t) s"],
  ['lpad of a column', "SELECT lpad(code::text, 6, '0') FROM t"],
  ['COALESCE, NULLIF, GREATEST, CASE', 'SELECT COALESCE(a, 0), NULLIF(b, 0), GREATEST(a, b), CASE WHEN a > 0 THEN 1 ELSE 0 END FROM t'],
  ['names built by concatenation, through a subquery', "SELECT name FROM (SELECT first || ' ' || last AS name FROM people) p WHERE name || '@x.cn' LIKE '%a%'"],
  ['forty concatenations of columns', `SELECT ${Array(40).fill('first_name').join(" || ' ' || ")} FROM t`],
  ['nested calls through nested subqueries', 'SELECT upper(trim(lower(substring(name, 1, 3)))) FROM (SELECT name FROM (SELECT name FROM t) x) y'],
]

const refused: [string, string, string, RegExp][] = [
  ['ts_stat with SQL in a dollar string', "SELECT ts_stat($$SELECT to_tsvector(set_config('role','none',true))$$)", 'function', /function ts_stat is not allowed/],
  ['ts_rewrite with SQL in a string', "SELECT ts_rewrite('a'::tsquery, 'SELECT 1')", 'function', /ts_rewrite/],
  ['query_to_xml', "SELECT query_to_xml('select 1', true, true, '')", 'function', /query_to_xml/],
  ['set_config in WHERE', "SELECT 1 FROM t WHERE set_config('role', 'none', true) IS NOT NULL", 'function', /set_config/],
  ['set_config in a CTE', "WITH c AS (SELECT set_config('request.jwt.claims', '{}', true)) SELECT * FROM c", 'function', /set_config/],
  ['set_config in ORDER BY', "SELECT 1 FROM t ORDER BY set_config('role', 'none', true)", 'function', /set_config/],
  ['set_config in VALUES', "VALUES (set_config('role', 'none', true))", 'function', /set_config/],
  ['set_config in a LATERAL', "SELECT * FROM t, LATERAL (SELECT set_config('role','none',true)) x", 'function', /set_config/],
  ['set_config in an aggregate FILTER', "SELECT count(*) FILTER (WHERE set_config('role','none',true) = '') FROM t", 'function', /set_config/],
  ['current_setting', "SELECT current_setting('request.jwt.claims')", 'function', /current_setting/],
  ['pg_show_all_settings in a subselect', 'SELECT (s).name FROM (SELECT pg_show_all_settings() AS s) x', 'function', /pg_show_all_settings/],
  ['pg_stat_get_activity', 'SELECT pg_stat_get_activity(NULL)', 'function', /pg_stat_get_activity/],
  ['a quoted spelling', 'SELECT "pg_sleep"(1)', 'function', /pg_sleep/],
  ['a U& spelling', 'SELECT U&"\\0070g_sleep"(1)', 'function', /function pg_sleep is not allowed/],
  ['a mixed-case pg_catalog spelling', 'SELECT PG_CATALOG.Pg_Terminate_Backend(1)', 'function', /function pg_catalog.pg_terminate_backend/],
  ['a business function not in DB_FUNCTIONS', 'SELECT public.bump_canary()', 'function', /public.bump_canary/],
  ['CURRENT_USER', 'SELECT CURRENT_USER', 'value_function', /CURRENT_USER is not allowed/],
  ['a regclass cast', "SELECT 'pg_authid'::regclass", 'type', /type regclass is not allowed/],
  ['a regproc cast in a CAST', "SELECT CAST('pg_sleep' AS pg_catalog.regproc)", 'type', /regproc/],
  ['an operator of another schema', 'SELECT 1 OPERATOR(public.+) 1', 'operator', /operator public\.\+/],
  ['XMLPARSE', "SELECT XMLPARSE(DOCUMENT '<a/>')", 'xml', /XML/],
  ['a TABLESAMPLE method of an extension', 'SELECT * FROM t TABLESAMPLE system_rows (10)', 'tablesample', /system_rows/],
  ['UPDATE', "UPDATE t SET a = 1", 'statement', /only SELECT statements are admitted/],
  ['two statements', 'SELECT 1; SELECT 2', 'one_statement', /exactly one statement/],
  ['a data-modifying CTE', 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'data_modifying', /DELETE/],
  ['FOR UPDATE', 'SELECT * FROM t FOR UPDATE', 'locking', /locking/],
  ['FOR KEY SHARE in a subquery', 'SELECT * FROM (SELECT * FROM t FOR KEY SHARE) s', 'locking', /locking/],
  ['SELECT INTO', 'SELECT * INTO x FROM t', 'into', /INTO/],
  ['repeat folding into 60 MB', "SELECT repeat('x', 60000000)", 'huge_constant', /repeat/],
  ['nested repeats', "SELECT repeat(repeat('x', 2000), 2000)", 'huge_constant', /bytes/],
  ['repeat of a one-row VALUES column', "SELECT repeat(v, n) FROM (VALUES ('x', 60000000)) t(v, n)", 'huge_constant', /repeat/],
  ['repeat of a column computed from a VALUES column', "SELECT repeat('x', m) FROM (SELECT n * 1000 AS m FROM (VALUES (60000)) v(n)) s", 'huge_constant', /repeat/],
  ['repeat through an inlined CTE', "WITH c AS (SELECT 60000 * 1000 AS n) SELECT repeat('x', n) FROM c", 'huge_constant', /repeat/],
  ['lpad to 60 M characters', "SELECT lpad('', 60000000, 'x')", 'huge_constant', /lpad/],
  ['array_fill of a million', "SELECT array_fill('xxxxxxxx'::text, ARRAY[1000, 1000])", 'huge_constant', /array_fill/],
  ['format with a huge width', "SELECT format('%60000000s', 'x')", 'huge_constant', /format/],
  ['a cast to xml (libxml2 on the caller\'s text)', "SELECT '<a/>'::xml", 'type', /type xml is not allowed/],
  ['a chain of 500 concatenations of a 30 kB constant', `WITH a AS (SELECT '${'x'.repeat(30000)}' AS s) SELECT ${Array(500).fill('s').join(' || ')} FROM a`, 'huge_constant', /\(\|\|\)/],
  ['a thousand concatenations side by side', `SELECT ${Array(1000).fill('s || s').join(', ')} FROM (SELECT '${'x'.repeat(30000)}' AS s) a`, 'huge_constant', /\|\|/],
  [
    'twelve CTEs, each doubling the one before',
    `WITH c0 AS (SELECT '${'x'.repeat(30000)}' AS s), ${Array.from({ length: 12 }, (_, i) => `c${i + 1} AS (SELECT s || s AS s FROM c${i})`).join(', ')} SELECT s FROM c12`,
    'huge_constant',
    /\|\|/,
  ],
  ['20,000 concatenations (deeper than the parser\'s stack)', `SELECT ${Array(20000).fill('1').join('||')}`, 'too_complex', /nests too deeply/],
  ['a thousand nested subqueries', `SELECT ${'(SELECT '.repeat(1000)}1${')'.repeat(1000)}`, 'too_complex', /nests too deeply/],
  ['powers of a numeric, concatenated', 'SELECT 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000 || 10::numeric ^ 100000', 'huge_constant', /\^|\|\|/],
]

describe('the admission gate admits what analysts write', () => {
  it.each(admitted)('%s', async (_, sql) => {
    expect(await admitSql(sql)).toMatchObject({ ok: true })
  })
})

describe('the admission gate refuses, naming the rule and the name', () => {
  it.each(refused)('%s', async (_, sql, rule, error) => {
    const verdict = await admitSql(sql)
    expect(verdict).toMatchObject({ ok: false, rule })
    expect(verdict.ok ? '' : verdict.error).toMatch(error)
  })
})

describe('a text too deep to parse', () => {
  it('is refused, and the parser it broke is replaced: the next query is judged as ever', async () => {
    expect(await admitSql(`SELECT ${Array(20000).fill('1').join('||')}`)).toMatchObject({ ok: false, rule: 'too_complex' })
    expect(await admitSql('SELECT count(*) FROM t')).toEqual({ ok: true, relations: ['t'] })
    expect(await admitSql('SELECT pg_sleep(1)')).toMatchObject({ ok: false, rule: 'function' })
  })
})

describe('positions and names', () => {
  it('a syntax error is the parser’s, with its position in the caller’s text', async () => {
    expect(await admitSql('SELECT * FROM t WHERE')).toMatchObject({ ok: false, rule: 'syntax', error: 'syntax error at end of input', position: 22 })
  })

  it('a refused call is located in characters of the caller’s text, from 1', async () => {
    expect(await admitSql("SELECT 'ééé', pg_sleep(1)")).toMatchObject({ ok: false, position: 15 })
  })

  it('names relations as written, schema-qualified or not, after the parser normalises them; CTE names are not relations', async () => {
    const verdict = await admitSql('WITH x AS (SELECT * FROM U&"\\0065mployees") SELECT * FROM x JOIN Sales.Orders o ON true JOIN "Mixed" m ON true')
    expect(verdict).toEqual({ ok: true, relations: ['employees', 'sales.orders', 'Mixed'] })
  })

  it('a non-recursive CTE that names a table after itself reads the table', async () => {
    expect(await admitSql('WITH employees AS (SELECT * FROM employees) SELECT * FROM employees')).toEqual({ ok: true, relations: ['employees'] })
    expect(await admitSql('WITH RECURSIVE e AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM e WHERE i < 3) SELECT * FROM e')).toEqual({ ok: true, relations: [] })
  })

  it('a refused query still names what it reads (for the audit)', async () => {
    expect(await admitSql("SELECT pg_sleep(1) FROM hr.salaries")).toMatchObject({ ok: false, rule: 'function', relations: ['hr.salaries'] })
  })

  it('business functions pass when DB_FUNCTIONS names them, qualified or not', async () => {
    expect(await admitSql('SELECT public.fiscal_year(d), fiscal_year(d) FROM t', { functions: ['public.fiscal_year'] })).toMatchObject({ ok: true })
    expect(await admitSql('SELECT other.fiscal_year(d) FROM t', { functions: ['public.fiscal_year'] })).toMatchObject({ ok: false, rule: 'function' })
  })
})
