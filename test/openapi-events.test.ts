import { beforeEach, describe, expect, it } from 'vitest'
import { EVENT_DATA } from '../src/openapi/event-schemas'
import type { AnswerEventName } from '../src/stream/events'
import { ask, dbEnv, fakeUrl, putDemoSnapshot } from './support/app'
import { readEvents, type ParsedEvent } from './support/streams'

// The event schemas of the OpenAPI document against real streams: every event of every kind
// must parse, strictly (an undocumented field fails), so the document cannot drift from the app.
beforeEach(putDemoSnapshot)

const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
const fake = (options: Record<string, string>) => fakeUrl(Object.entries(options).map(([k, v]) => (v ? `${k}=${encodeURIComponent(v)}` : k)).join(','))
const RO = () => dbEnv('guardReadonly')

const seen = new Set<string>()

function expectDocumented(events: ParsedEvent[]) {
  expect(events.length).toBeGreaterThan(2)
  for (const e of events) {
    const schema = EVENT_DATA[e.event as AnswerEventName]
    expect(schema, `event ${e.event} is documented`).toBeDefined()
    const parsed = schema.safeParse(e.data)
    expect(parsed.success ? null : { event: e.event, data: e.data, issues: parsed.error.issues }).toBeNull()
    seen.add(e.event)
  }
}

describe('every event the service streams matches its documented schema', () => {
  it.each([
    ['a checked answer, with reasoning', { question: '沈塘桥地铁站的信息' }, () => ({ ...RO(), DASHSCOPE_BASE_URL: fake({ think: '' }) })],
    ['a repaired answer', { question: '列出三个站名' }, () => ({ ...RO(), DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT name FROM stations LIMIT 3') }) })],
    ['a refused answer', { question: '列出站名' }, () => ({ ...RO(), DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT nme FROM stations'), repair: fence('SELECT nom FROM stations') }) })],
    ['an answer without SQL', { question: '明天会下雨吗' }, () => ({ DASHSCOPE_BASE_URL: fake({ answer: '无法回答。' }) })],
    ['rows of a run', { question: '前七个站', execute: true }, () => ({ ...RO(), SQL_EXECUTE: 'true', SQL_ROWS_PER_EVENT: '3', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT id, name, opened_on FROM stations ORDER BY id LIMIT 7') }) })],
    ['rows explained in words', { question: '前七个站', execute: true, summarize: true }, () => ({ ...RO(), SQL_EXECUTE: 'true', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT id, name FROM stations ORDER BY id LIMIT 7') }) })],
    ['a summary skipped, the run failed', { question: '除以零', execute: true, summarize: true }, () => ({ ...RO(), SQL_EXECUTE: 'true', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT 1 / (id - id) FROM stations') }) })],
    ['a failed run', { question: '除以零', execute: true }, () => ({ ...RO(), SQL_EXECUTE: 'true', DASHSCOPE_BASE_URL: fake({ answer: fence('SELECT 1 / (id - id) FROM stations') }) })],
    ['an unchecked answer (no database)', { question: '沈塘桥地铁站的信息' }, () => ({})],
    ['a broken upstream', { question: '沈塘桥地铁站的信息' }, () => ({ DASHSCOPE_BASE_URL: fake({ disconnect_at: '5' }) })],
  ])('%s', async (_name, body, overrides) => {
    const res = await ask(body, overrides())
    expect(res.status).toBe(200)
    expectDocumented(await readEvents(res.body!))
  })

  it('has covered every documented event kind in the cases above', () => {
    expect([...seen].sort()).toEqual(Object.keys(EVENT_DATA).sort())
  })
})
