import { beforeEach, describe, expect, it } from 'vitest'
import { judgeAnswerable } from '../src/answer/judge-answerable'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { buildPrompt } from '../src/prompt/build-prompt'
import { SnapshotSchema } from '../src/schema/snapshot-schema'
import { detectUnanswerable } from '../src/sql/detect-unanswerable'
import questions from '../eval/questions/metro-zh.json'
import { ask, call, dbEnv, fakeRecord, fakeUrl, putDemoSnapshot } from './support/app'
import { readEvents, readText, type ParsedEvent } from './support/streams'

beforeEach(putDemoSnapshot)

const fake = (options: Record<string, string>) => fakeUrl(Object.entries(options).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(','))
const names = (events: ParsedEvent[]) => events.map((e) => e.event).filter((e, i, all) => e !== 'delta' || all[i - 1] !== 'delta')
const of = (events: ParsedEvent[], name: string) => events.filter((e) => e.event === name)
type Question = { question: string; sql: string | null; lang: string }

describe('the model saying the schema cannot answer', () => {
  it.each([
    ['the marker line the prompt asks for', '您的问题是：员工工资\n\n无法回答：数据库中没有员工或工资相关的表。', false, '数据库中没有员工或工资相关的表。'],
    ['the marker with an ASCII colon', '无法回答: 没有天气数据', false, '没有天气数据'],
    ['the marker even after a guessed query', '```sql\nSELECT 1 FROM stations\n```\n无法回答：数据库不记录列车晚点。', true, '数据库不记录列车晚点。'],
    ['a Chinese refusal without the marker', '抱歉，根据这些表无法回答这个问题。', false, '抱歉，根据这些表无法回答这个问题。'],
    ['数据库中没有', '您的问题是：广告收入。\n数据库中没有广告收入的数据，因此不给出 SQL。', false, '数据库中没有广告收入的数据，因此不给出 SQL。'],
    ['没有相关的表', '思考过程：\n- 现有结构里没有与员工相关的表', false, '- 现有结构里没有与员工相关的表'],
    ['English: cannot be answered', 'This question cannot be answered from the given schema.', false, 'This question cannot be answered from the given schema.'],
    ['English: the database does not contain', 'Sorry, the database does not contain salary data.', false, 'Sorry, the database does not contain salary data.'],
    ['English: no table about', 'There is no table about weather here.', false, 'There is no table about weather here.'],
  ])('detects %s', (_name, answer, hasSql, reason) => {
    expect(detectUnanswerable(answer, hasSql)).toBe(reason)
  })

  it.each([
    ['a normal answer', '您的问题是：站名\n```sql\nSELECT name FROM stations\n```'],
    ['a caveat that comes with SQL', '数据库中没有直接的客流字段，但可以用 entries + exits 计算。\n```sql\nSELECT sum(entries + exits) FROM daily_ridership\n```'],
    ['English caveat with SQL', "The schema doesn't have a total column, so I add them.\n```sql\nSELECT 1\n```"],
  ])('does not fire on %s', (_name, answer) => {
    expect(detectUnanswerable(answer, true)).toBeNull()
  })

  it('the prompt tells the model the exact line to write', () => {
    const system = buildPrompt({ question: '员工有多少', snapshot: demoSnapshot }).messages[0]!.content
    expect(system).toContain('无法回答：')
    expect(system).toMatch(/单独一行.*无法回答：/)
  })

  it.each([
    ['the marker', '无法回答：没有员工表。'],
    ['a Chinese phrasing', '抱歉，数据库中没有员工的信息。'],
    ['an English phrasing', 'This cannot be answered: no table about staff.'],
  ])('streams meta → deltas → unanswerable → usage → done for %s, and checks no SQL', async (_name, answer) => {
    const tag = `decline-${Math.random().toString(36).slice(2)}`
    const events = await readEvents((await ask({ question: '各站点的员工人数' }, { ...dbEnv('guardReadonly'), DASHSCOPE_BASE_URL: fake({ answer, tag }) })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'unanswerable', 'usage', 'done'])
    expect(of(events, 'unanswerable')[0]!.data).toMatchObject({ source: 'model', closest_tables: expect.arrayContaining(['stations']) })
    expect(of(events, 'done')[0]!.data.finish_reason).toBe('stop')
    // One call: no repair round was started for a refusal.
    expect((await fakeRecord(tag)).seen).toBe(true)
  })
})

describe('linking decides before the model when nothing matches', () => {
  it('answers meta → unanswerable → done without calling DashScope', async () => {
    const tag = `nocall-${Math.random().toString(36).slice(2)}`
    const res = await ask({ question: '明天杭州会下雨吗' }, { DASHSCOPE_BASE_URL: fake({ tag }) })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    expect(events.map((e) => e.event)).toEqual(['meta', 'unanswerable', 'done'])
    expect(events[0]!.data).toMatchObject({ tables: [], schema_version: demoSnapshot.version })
    expect(events[1]!.data).toEqual({ reason: expect.stringMatching(/^无法回答：/), closest_tables: [], source: 'linking' })
    expect(events[2]!.data).toMatchObject({ finish_reason: 'unanswerable', ttft_ms: null })
    expect((await fakeRecord(tag)).seen).toBe(false)
  })

  it('is off with UNANSWERABLE_MIN_SCORE=0: the model is asked', async () => {
    const events = await readEvents((await ask({ question: '明天杭州会下雨吗' }, { UNANSWERABLE_MIN_SCORE: '0' })).body!)
    expect(names(events)).toEqual(['meta', 'delta', 'sql', 'usage', 'done'])
  })

  it('an earlier turn keeps a follow-up answerable', async () => {
    const history = [{ role: 'user', content: '昨天客流最大的站' }, { role: 'assistant', content: '```sql\nSELECT 1\n```' }]
    const events = await readEvents((await ask({ question: '那前天呢？', history })).body!)
    expect(events.map((e) => e.event)).toContain('sql')
    expect(events.map((e) => e.event)).not.toContain('unanswerable')
  })

  it('the old /getAnwser client reads one line of text saying why', async () => {
    const res = await call('/getAnwser', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '公司的股价走势' }) })
    expect(res.status).toBe(200)
    expect(await readText(res.body!)).toBe('无法回答：数据库中没有与问题相关的表或字段。\n')
  })

  it('the old client of a model refusal reads the model\'s own text only', async () => {
    const res = await call('/getAnwser', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '各站点的员工人数' }) }, { DASHSCOPE_BASE_URL: fake({ answer: '无法回答：没有员工表。' }) })
    expect(await readText(res.body!)).toBe('无法回答：没有员工表。')
  })

  it('the threshold never fires on an answerable question of the demo set, and fires on most Chinese unanswerable ones', () => {
    const set = questions as Question[]
    const answerable = set.filter((q) => q.sql !== null)
    expect(answerable.length).toBeGreaterThanOrEqual(50)
    expect(answerable.filter((q) => !judgeAnswerable(demoSnapshot, q.question, 0.5).answerable).map((q) => q.question)).toEqual([])
    const declined = set.filter((q) => q.sql === null && q.lang === 'zh' && !judgeAnswerable(demoSnapshot, q.question, 0.5).answerable)
    expect(declined.length).toBeGreaterThanOrEqual(5)
  })

  it('a glossary term makes a question answerable that linking alone would decline', () => {
    const withTerm = SnapshotSchema.parse({ ...demoSnapshot, glossary: [{ term: '股价', definition: '演示：股价对应线路长度', columns: ['lines.length_km'] }] })
    expect(judgeAnswerable(demoSnapshot, '公司的股价走势', 0.5).answerable).toBe(false)
    expect(judgeAnswerable(withTerm, '公司的股价走势', 0.5).answerable).toBe(true)
  })
})
