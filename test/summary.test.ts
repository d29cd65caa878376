import { beforeEach, describe, expect, it } from 'vitest'
import { ask, call, dbEnv, fakeRecord, fakeRecordAfterClose, fakeUrl, putDemoSnapshot } from './support/app'
import { readEvents, readText, type ParsedEvent } from './support/streams'

// `"summarize": true` with `"execute": true`: after `result`, the rows explained in words by one
// more DashScope call (the fake composes its summary from the rows the request carries).
beforeEach(putDemoSnapshot)

const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
const fake = (options: Record<string, string>) => fakeUrl(Object.entries(options).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(','))
const EXEC = () => ({ ...dbEnv('guardReadonly'), SQL_EXECUTE: 'true' })
const names = (events: ParsedEvent[]) => events.map((e) => e.event).filter((e, i, all) => (e !== 'delta' && e !== 'summary') || all[i - 1] !== e)
const of = (events: ParsedEvent[], name: string) => events.filter((e) => e.event === name)
const summaryText = (events: ParsedEvent[]) => of(events, 'summary').map((e) => e.data.text).join('')
const TOP_STATIONS = 'SELECT s.name, SUM(r.entries + r.exits) AS total_passengers FROM daily_ridership r JOIN stations s ON s.id = r.station_id GROUP BY s.name ORDER BY total_passengers DESC LIMIT 10'

describe('"summarize": true explains the rows in words after the result', () => {
  it('streams summary deltas after result and before usage, in the question\'s language, quoting only values of the rows', async () => {
    const tag = `sum-${crypto.randomUUID()}`
    const events = await readEvents((await ask({ question: '客流量最高的十个站点', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: fence(TOP_STATIONS), tag }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'rows', 'result', 'summary', 'usage', 'done'])
    // More than one delta: streamed as DashScope writes it, not collected.
    expect(of(events, 'summary').length).toBeGreaterThan(3)
    const text = summaryText(events)
    expect(text).toMatch(/^查询共返回 10 行/)
    const rows = of(events, 'rows').flatMap((e) => e.data.rows) as unknown[][]
    const values = new Set(rows.flat().map(String))
    // Every number in the summary is the row count or a value of the rows, as it is written there.
    for (const n of text.match(/\d+(?:\.\d+)?/g) ?? []) expect(n === '10' || values.has(n), `${n} is not in the rows`).toBe(true)
    expect(text).toContain(String(rows[0]![0]))
    // The summary request: the question, the SQL, the count and the rows — and the instruction to quote, not invent.
    const prompt = JSON.stringify((await fakeRecord(tag)).body)
    expect(prompt).toContain('客流量最高的十个站点')
    expect(prompt).toContain('共 10 行')
    expect(prompt).toContain('不编造')
    expect(prompt).toContain(String(rows[9]![0]))
  })

  it('answers in English for an English question', async () => {
    const events = await readEvents((await ask({ question: 'Which ten stations have the most passengers?', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: fence(TOP_STATIONS) }) })).body!)
    expect(summaryText(events)).toMatch(/^The query returned 10 rows\. The first is: name = /)
  })

  it('sends the model at most SUMMARY_SAMPLE_ROWS rows, and says the count and that it sees only the first ones', async () => {
    const tag = `sample-${crypto.randomUUID()}`
    const base = fake({ answer: fence('SELECT id, name FROM stations ORDER BY id'), tag })
    const events = await readEvents((await ask({ question: '所有站点', execute: true, summarize: true }, { ...EXEC(), SUMMARY_SAMPLE_ROWS: '3', DASHSCOPE_BASE_URL: base })).body!)
    const rows = of(events, 'rows').flatMap((e) => e.data.rows) as unknown[][]
    expect(rows.length).toBeGreaterThan(3)
    const user = ((await fakeRecord(tag)).body.input.messages as { role: string; content: string }[]).at(-1)!.content
    expect(user).toContain(`共 ${rows.length} 行`)
    expect(user).toContain('下面是前 3 行（不是全部）')
    const table = user.slice(user.indexOf('（不是全部）：') + '（不是全部）：'.length).trim().split('\n')
    expect(table).toEqual(['id (integer) | name (character varying)', ...rows.slice(0, 3).map((r) => `${r[0]} | ${r[1]}`), '⟦/数据⟧'])
  })

  it('counts the summary call\'s tokens in usage', async () => {
    const base = fake({ answer: fence(TOP_STATIONS) })
    const plain = await readEvents((await ask({ question: '客流量最高的十个站点', execute: true }, { ...EXEC(), DASHSCOPE_BASE_URL: base })).body!)
    const summed = await readEvents((await ask({ question: '客流量最高的十个站点', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: base })).body!)
    const [u0, u1] = [of(plain, 'usage')[0]!.data, of(summed, 'usage')[0]!.data]
    expect(u1.input_tokens).toBeGreaterThan(u0.input_tokens)
    expect(u1.output_tokens).toBeGreaterThan(u0.output_tokens)
    expect(u1.total_tokens).toBe(u1.input_tokens + u1.output_tokens)
  })

  it('is skipped, saying why, when the run returns no rows — no second call', async () => {
    const tag = `norows-${crypto.randomUUID()}`
    const events = await readEvents((await ask({ question: '不存在的站', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: fence("SELECT name FROM stations WHERE name = '不存在'"), tag }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'rows', 'result', 'summary', 'usage', 'done'])
    expect(of(events, 'summary')).toEqual([{ event: 'summary', data: { text: '', skipped: 'no_rows' } }])
    expect(JSON.stringify((await fakeRecord(tag)).body)).not.toContain('【查询结果】')
  })

  it('is skipped when the run failed', async () => {
    const events = await readEvents((await ask({ question: '慢查询站点客流', execute: true, summarize: true }, { ...EXEC(), SQL_EXECUTE_TIMEOUT_MS: '300', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT count(*) FROM daily_ridership a, daily_ridership b, daily_ridership c') }) })).body!)
    expect(of(events, 'result')[0]!.data).toMatchObject({ ok: false })
    expect(of(events, 'summary')).toEqual([{ event: 'summary', data: { text: '', skipped: 'run_failed' } }])
  })

  it('is skipped when Postgres refused the SQL, even after the repair', async () => {
    const base = fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT nom FROM stations') })
    const events = await readEvents((await ask({ question: '列出站名', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: base })).body!)
    expect(of(events, 'sql')[0]!.data.ok).toBe(false)
    expect(of(events, 'summary')).toEqual([{ event: 'summary', data: { text: '', skipped: 'run_failed' } }])
    expect(events.at(-1)!.event).toBe('done')
  })

  it('is skipped when the model says the schema cannot answer', async () => {
    const events = await readEvents((await ask({ question: '站点明天会下雨吗', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: '无法回答：数据库中没有天气数据。' }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'unanswerable', 'result', 'summary', 'usage', 'done'])
    expect(of(events, 'summary')[0]!.data).toEqual({ text: '', skipped: 'unanswerable' })
  })

  it('is skipped when linking declines the question before any call', async () => {
    const events = await readEvents((await ask({ question: '公司员工的工资是多少', execute: true, summarize: true }, EXEC())).body!)
    expect(names(events)).toEqual(['meta', 'unanswerable', 'result', 'summary', 'done'])
    expect(of(events, 'summary')[0]!.data).toEqual({ text: '', skipped: 'unanswerable' })
  })

  it('comes only when asked: no summary event without "summarize"', async () => {
    const events = await readEvents((await ask({ question: '客流量最高的十个站点', execute: true }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: fence(TOP_STATIONS) }) })).body!)
    expect(of(events, 'summary')).toEqual([])
  })

  it('is 400 without "execute": there are no rows to explain', async () => {
    const res = await ask({ question: '客流量最高的十个站点', summarize: true }, EXEC())
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining('"summarize" needs "execute": true') } })
    expect((await ask({ question: '客流', execute: true, summarize: 'yes' }, EXEC())).status).toBe(400)
  })

  it('a summary that fails upstream ends the answer with an error after the rows, keeping what was sent', async () => {
    // The question's answer is complete; the summary call is refused by DashScope.
    const base = fake({ answer: fence(TOP_STATIONS), summary_status: '503' })
    const events = await readEvents((await ask({ question: '客流量最高的十个站点', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: base })).body!)
    expect(of(events, 'result')[0]!.data).toMatchObject({ ok: true, row_count: 10 })
    expect(of(events, 'rows').flatMap((e) => e.data.rows)).toHaveLength(10)
    expect(events.at(-2)).toMatchObject({ event: 'error', data: { code: 'upstream_unavailable', retryable: true } })
    expect(events.at(-1)!.data.finish_reason).toBe('error')
  })

  it('a client that leaves during the summary cancels its DashScope call', async () => {
    const tag = `sumabort-${crypto.randomUUID()}`
    const res = await ask({ question: '客流量最高的十个站点', execute: true, summarize: true }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: fence(TOP_STATIONS), tag, pace: '40' }) })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let seen = ''
    while (!seen.includes('event: summary')) {
      const { done, value } = await reader.read()
      if (done) throw new Error('ended before the summary')
      seen += value
    }
    await reader.cancel()
    const record = await fakeRecordAfterClose(tag)
    expect(JSON.stringify(record.body)).toContain('【查询结果】')
    expect(record.closed_early).toBe(true)
    expect(record.completed).toBe(false)
  })
})

describe('/getAnwser is unchanged by summaries', () => {
  it('ignores "summarize" as any unknown field: the answer text only, no summary call', async () => {
    const tag = `legacy-${crypto.randomUUID()}`
    const res = await call('/getAnwser', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '客流量最高的十个站点', summarize: true }) }, { ...EXEC(), DASHSCOPE_BASE_URL: fake({ answer: fence(TOP_STATIONS), tag }) })
    expect(res.status).toBe(200)
    const text = await readText(res.body!)
    expect(text).toContain('```sql')
    expect(text).not.toContain('查询共返回')
    expect(JSON.stringify((await fakeRecord(tag)).body)).not.toContain('【查询结果】')
  })
})
