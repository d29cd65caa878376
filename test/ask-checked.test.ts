import { beforeEach, describe, expect, it } from 'vitest'
import { env } from 'cloudflare:workers'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { ask, call, dbEnv, dbEnvWithReadonly, fakeRecord, fakeUrl, putDemoSnapshot, type Overrides } from './support/app'
import { readEvents, readText, type ParsedEvent } from './support/streams'

// The demo snapshot describes the demo database that `guard` holds (plus a canary table).
beforeEach(putDemoSnapshot)

const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
const fake = (options: Record<string, string>) =>
  fakeUrl(Object.entries(options).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(','))
const RO = () => dbEnv('guardReadonly')
const names = (events: ParsedEvent[]) => events.map((e) => e.event).filter((e, i, all) => e !== 'delta' || all[i - 1] !== 'delta')
const of = (events: ParsedEvent[], name: string) => events.filter((e) => e.event === name)

describe('the answer\'s SQL is checked by Postgres before the sql event', () => {
  it('reports a good query as checked, with the plan\'s estimated rows and cost', async () => {
    const events = await readEvents((await ask({ question: '沈塘桥地铁站的信息' }, RO())).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'usage', 'done'])
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: expect.stringContaining('沈塘桥'), ok: true, checked: true, plan_rows: expect.any(Number), plan_cost: expect.any(Number) })
  })

  it('repairs once: the error goes back to the model, the second answer streams under a repair event and is checked again', async () => {
    const base = fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT name FROM stations ORDER BY id LIMIT 3'), tag: 'repair1' })
    const events = await readEvents((await ask({ question: '列出三个站名' }, { ...RO(), DASHSCOPE_BASE_URL: base })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'repair', 'delta', 'sql', 'usage', 'done'])
    expect(of(events, 'repair')[0]!.data).toEqual({ sql: 'SELECT nme FROM stations', error: 'column "nme" does not exist', position: 8 })
    expect(of(events, 'sql')[0]!.data).toMatchObject({ sql: 'SELECT name FROM stations ORDER BY id LIMIT 3', ok: true, checked: true, repaired: true })
    // The second request carried the failing SQL and Postgres's error.
    const second = JSON.stringify((await fakeRecord('repair1')).body)
    expect(second).toContain('SELECT nme FROM stations')
    expect(second).toContain('column \\"nme\\" does not exist')
    // Usage counts both calls: more input than one prompt alone.
    const single = await readEvents((await ask({ question: '列出三个站名' }, { ...RO(), DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT name FROM stations') }) })).body!)
    expect(of(events, 'usage')[0]!.data.input_tokens).toBeGreaterThan(of(single, 'usage')[0]!.data.input_tokens * 1.5)
  })

  it('reports the final failure when the repair fails too — never a third call', async () => {
    const base = fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT nom FROM stations') })
    const events = await readEvents((await ask({ question: '列出站名' }, { ...RO(), DASHSCOPE_BASE_URL: base })).body!)
    expect(of(events, 'repair')).toHaveLength(1)
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: 'SELECT nom FROM stations', ok: false, checked: true, error: 'column "nom" does not exist', position: 8, pg_code: '42703', repaired: true })
    expect(events.at(-1)!.event).toBe('done')
  })

  it('does not repair when SQL_REPAIR is off', async () => {
    const events = await readEvents((await ask({ question: '列出站名' }, { ...RO(), SQL_REPAIR: 'false', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT nme FROM stations') }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'usage', 'done'])
    expect(of(events, 'sql')[0]!.data).toMatchObject({ ok: false, error: 'column "nme" does not exist' })
  })

  it('"无法回答" is an unanswerable event: no sql event, no check, no error, no repair', async () => {
    const events = await readEvents((await ask({ question: '站点明天会下雨吗' }, { ...RO(), DASHSCOPE_BASE_URL: fake({ answer: '无法回答：数据库中没有天气数据。' }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'unanswerable', 'usage', 'done'])
    expect(of(events, 'unanswerable')[0]!.data).toEqual({ reason: '数据库中没有天气数据。', closest_tables: expect.arrayContaining(['stations']), source: 'model' })
  })

  it('an answer with neither SQL nor a refusal is still ok:false without an error event', async () => {
    const events = await readEvents((await ask({ question: '站点的情况' }, { ...RO(), DASHSCOPE_BASE_URL: fake({ answer: '好的，我明白了。' }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'usage', 'done'])
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: null, ok: false, error: 'no SQL found in the answer' })
  })

  it('refuses a writing statement and leaves the data as it was', async () => {
    const base = fake({ answer: fence('DELETE FROM canary'), repair: '还是无法只读地完成。' })
    const events = await readEvents((await ask({ question: '删除金丝雀站点' }, { ...RO(), SQL_EXECUTE: 'true', DASHSCOPE_BASE_URL: base }, {})).body!)
    expect(of(events, 'sql')[0]!.data).toMatchObject({ sql: 'DELETE FROM canary', ok: false, checked: true })
    const canary = await withDb(readConfig({ ...env, ...dbEnv('guard') }).database, (db) => db.query('SELECT count(*)::int AS n FROM canary WHERE note = $1', ['untouched']), 30_000)
    expect(canary).toEqual([{ n: 2 }])
  })

  it('sends the SQL unchecked, saying why, when the database cannot be reached', async () => {
    const events = await readEvents((await ask({ question: '沈塘桥地铁站的信息' }, dbEnv('dead'))).body!)
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: expect.stringContaining('沈塘桥'), ok: true, checked: false, check_error: expect.stringMatching(/^database_unreachable: /) })
  })

  it('sends the SQL unchecked, and ends, when the database logs in and then stops answering', async () => {
    // Postgres's statement timeouts cannot fire on a server that does not answer: the session is
    // bounded by SQL_CHECK_TIMEOUT_MS plus 2 s of round trips, then closed.
    const events = await readEvents((await ask({ question: '沈塘桥地铁站的信息' }, { ...dbEnv('mute'), SQL_CHECK_TIMEOUT_MS: '200' })).body!)
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: expect.stringContaining('沈塘桥'), ok: true, checked: false, check_error: expect.stringMatching(/^database_timeout: .*2200 ms/) })
    expect(events.at(-1)!.event).toBe('done')
  })

  it('checks nothing without a database (the SQL as the model wrote it)', async () => {
    const events = await readEvents((await ask({ question: '沈塘桥地铁站的信息' })).body!)
    expect(of(events, 'sql')[0]!.data).toEqual({ sql: expect.stringContaining('沈塘桥'), ok: true })
  })

  it('tells the old client in plain text why a second answer follows', async () => {
    const base = fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT name FROM stations') })
    const res = await call('/getAnwser', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '列出站名' }) }, { ...RO(), DASHSCOPE_BASE_URL: base })
    const text = await readText(res.body!)
    expect(text).toContain('SQL 校验未通过：column "nme" does not exist')
    expect(text.indexOf('SELECT nme')).toBeLessThan(text.indexOf('SELECT name FROM stations'))
  })
})

describe('"execute": true runs the checked SQL read-only and streams the rows', () => {
  const EXEC = () => ({ ...RO(), SQL_EXECUTE: 'true' })

  it('sends rows in batches after sql, then result', async () => {
    const base = fake({ answer: fence('SELECT id, name, is_transfer FROM stations ORDER BY id LIMIT 7') })
    const events = await readEvents((await ask({ question: '前七个站', execute: true }, { ...EXEC(), SQL_ROWS_PER_EVENT: '3', DASHSCOPE_BASE_URL: base })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'rows', 'rows', 'rows', 'result', 'usage', 'done'])
    const rows = of(events, 'rows')
    expect(rows[0]!.data.columns).toEqual([{ name: 'id', type: 'integer' }, { name: 'name', type: 'character varying' }, { name: 'is_transfer', type: 'boolean' }])
    expect(rows.map((r) => [r.data.offset, r.data.rows.length])).toEqual([[0, 3], [3, 3], [6, 1]])
    expect(rows[1]!.data.columns).toBeUndefined()
    expect(rows[0]!.data.rows[0]).toEqual([1, expect.any(String), expect.any(Boolean)])
    expect(of(events, 'result')[0]!.data).toEqual({ ok: true, row_count: 7, truncated: false, elapsed_ms: expect.any(Number) })
  })

  it('caps the rows at SQL_MAX_ROWS and says truncated', async () => {
    const base = fake({ answer: fence('SELECT * FROM daily_ridership') })
    const events = await readEvents((await ask({ question: '全部客流', execute: true }, { ...EXEC(), SQL_MAX_ROWS: '10', DASHSCOPE_BASE_URL: base })).body!)
    expect(of(events, 'result')[0]!.data).toMatchObject({ ok: true, row_count: 10, truncated: true })
  })

  it('a row larger than SQL_MAX_RESULT_BYTES is cut with its reason (the service keeps answering the next question)', async () => {
    const big = fake({ answer: fence("SELECT g, repeat('x', 300000) AS pad FROM generate_series(1, 40) g") })
    const events = await readEvents((await ask({ question: '全部客流', execute: true }, { ...EXEC(), SQL_MAX_RESULT_BYTES: '100000', DASHSCOPE_BASE_URL: big })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'rows', 'result', 'usage', 'done'])
    expect(of(events, 'rows')[0]!.data).toEqual({ columns: [{ name: 'g', type: 'integer' }, { name: 'pad', type: 'text' }], rows: [], offset: 0 })
    expect(of(events, 'result')[0]!.data).toEqual({ ok: true, row_count: 0, truncated: true, truncated_reason: 'row 1 is 300004 bytes, more than SQL_MAX_RESULT_BYTES (100000): its values were not sent', elapsed_ms: expect.any(Number) })
    const next = await readEvents((await ask({ question: '前两个站', execute: true }, { ...EXEC(), SQL_MAX_RESULT_BYTES: '100000', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT id FROM stations ORDER BY id LIMIT 2') }) })).body!)
    expect(of(next, 'result')[0]!.data).toEqual({ ok: true, row_count: 2, truncated: false, elapsed_ms: expect.any(Number) })
  })

  it('reports a statement that times out as a failed result, not a broken stream', async () => {
    const base = fake({ answer: fence('SELECT count(*) FROM daily_ridership a, daily_ridership b, daily_ridership c') })
    const events = await readEvents((await ask({ question: '慢查询站点客流', execute: true }, { ...EXEC(), SQL_EXECUTE_TIMEOUT_MS: '300', DASHSCOPE_BASE_URL: base })).body!)
    expect(of(events, 'result')[0]!.data).toEqual({ ok: false, code: 'query_failed', error: 'the statement timed out', pg_code: '57014' })
    expect(events.at(-1)!.event).toBe('done')
  })

  it('is refused as a result when the connection is a superuser', async () => {
    const events = await readEvents((await ask({ question: '沈塘桥地铁站的信息', execute: true }, { ...dbEnv('guard'), SQL_EXECUTE: 'true' })).body!)
    expect(of(events, 'sql')[0]!.data).toMatchObject({ ok: true, checked: true })
    expect(of(events, 'result')[0]!.data).toEqual({ ok: false, code: 'execution_refused', error: expect.stringMatching(/superuser/) })
  })

  // docs/API.md, "How an answer ends": a client that asked for rows always gets one `result`, and
  // the events of every ending come in the documented order.
  const ENDINGS: { ending: string; question: string; vars: () => Overrides; events: string[]; result: Record<string, unknown> }[] = [
    { ending: 'rows', question: '前三个站', vars: () => ({ DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT name FROM stations ORDER BY id LIMIT 3') }) }), events: ['meta', 'delta', 'sql', 'rows', 'result', 'usage', 'done'], result: { ok: true, row_count: 3 } },
    { ending: 'a run Postgres stops', question: '慢查询站点客流', vars: () => ({ SQL_EXECUTE_TIMEOUT_MS: '300', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT count(*) FROM daily_ridership a, daily_ridership b, daily_ridership c') }) }), events: ['meta', 'delta', 'sql', 'result', 'usage', 'done'], result: { ok: false, code: 'query_failed', pg_code: '57014' } },
    { ending: 'runs refused for the role', question: '沈塘桥地铁站的信息', vars: () => dbEnv('guard'), events: ['meta', 'delta', 'sql', 'result', 'usage', 'done'], result: { ok: false, code: 'execution_refused' } },
    { ending: 'the check refused the SQL, repaired in vain', question: '列出站名', vars: () => ({ DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT nom FROM stations') }) }), events: ['meta', 'delta', 'repair', 'delta', 'sql', 'result', 'usage', 'done'], result: { ok: false, code: 'check_failed', error: 'not run: the check refused the SQL: column "nom" does not exist' } },
    { ending: 'the check refused the SQL, no repair', question: '列出站名', vars: () => ({ SQL_REPAIR: 'false', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT nme FROM stations') }) }), events: ['meta', 'delta', 'sql', 'result', 'usage', 'done'], result: { ok: false, code: 'check_failed' } },
    { ending: 'the repair call failed', question: '列出站名', vars: () => ({ DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT nme FROM stations'), repair_status: '500' }) }), events: ['meta', 'delta', 'repair', 'sql', 'result', 'usage', 'error', 'done'], result: { ok: false, code: 'check_failed' } },
    { ending: 'the database unreachable', question: '沈塘桥地铁站的信息', vars: () => dbEnv('dead'), events: ['meta', 'delta', 'sql', 'result', 'usage', 'done'], result: { ok: false, code: 'unchecked', error: expect.stringMatching(/^not run: the SQL could not be checked: database_unreachable: /) } },
    { ending: 'no SQL in the answer', question: '站点的情况', vars: () => ({ DASHSCOPE_BASE_URL: fake({ answer: '好的，我明白了。' }) }), events: ['meta', 'delta', 'sql', 'result', 'usage', 'done'], result: { ok: false, code: 'no_sql' } },
    { ending: 'the model declined', question: '站点明天会下雨吗', vars: () => ({ DASHSCOPE_BASE_URL: fake({ answer: '无法回答：数据库中没有天气数据。' }) }), events: ['meta', 'delta', 'unanswerable', 'result', 'usage', 'done'], result: { ok: false, code: 'unanswerable' } },
    { ending: 'linking declined', question: '公司的股价走势', vars: () => ({}), events: ['meta', 'unanswerable', 'result', 'done'], result: { ok: false, code: 'unanswerable' } },
    { ending: 'DashScope broke off mid-answer', question: '沈塘桥地铁站的信息', vars: () => ({ DASHSCOPE_BASE_URL: fake({ error_at: '5' }) }), events: ['meta', 'delta', 'result', 'usage', 'error', 'done'], result: { ok: false, code: 'answer_failed', error: 'not run: the answer ended with upstream_error' } },
  ]

  it.each(ENDINGS.map((e) => [e.ending, e] as const))('%s: one result, in the documented order', async (_ending, e) => {
    const events = await readEvents((await ask({ question: e.question, execute: true }, { ...EXEC(), ...e.vars() })).body!)
    expect(names(events)).toEqual(e.events)
    expect(of(events, 'result')).toHaveLength(1)
    expect(of(events, 'result')[0]!.data).toMatchObject(e.result)
  })

  it('without execute, no ending sends a result', async () => {
    for (const e of ENDINGS.filter((x) => x.ending !== 'rows')) {
      const events = await readEvents((await ask({ question: e.question }, { ...RO(), ...e.vars() })).body!)
      expect(names(events), e.ending).toEqual(e.events.filter((n) => n !== 'result' && n !== 'rows'))
    }
  })

  it('uses the read-only connection (DATABASE_URL_READONLY, HYPERDRIVE_READONLY) for checks and runs when it is set', async () => {
    const events = await readEvents((await ask({ question: '沈塘桥地铁站的信息', execute: true }, dbEnvWithReadonly('guard', 'guardReadonly', { SQL_EXECUTE: 'true' }))).body!)
    expect(of(events, 'result')[0]!.data).toMatchObject({ ok: true, row_count: 1 })
  })

  it('is 403 execute_not_allowed unless SQL_EXECUTE is on', async () => {
    const res = await ask({ question: '沈塘桥', execute: true }, RO())
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('execute_not_allowed')
  })

  it('is 503 database_not_configured without a database', async () => {
    const res = await ask({ question: '沈塘桥', execute: true }, { SQL_EXECUTE: 'true' })
    expect(res.status).toBe(503)
  })

  it('is 400 for an execute that is not a boolean', async () => {
    expect((await ask({ question: '沈塘桥', execute: 'yes' }, EXEC())).status).toBe(400)
  })
})
