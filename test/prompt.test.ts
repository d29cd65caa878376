import { describe, expect, it } from 'vitest'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { buildPrompt } from '../src/prompt/build-prompt'
import { quoteIdent, renderSchema } from '../src/prompt/render-schema'
import { SnapshotSchema, type Snapshot } from '../src/schema/snapshot-schema'

const snapshot = (input: unknown): Snapshot => SnapshotSchema.parse(input)

describe('rendering the schema', () => {
  it.each([
    ['stations', 'stations'],
    ['CamelCase', '"CamelCase"'],
    ['站点表', '"站点表"'],
    ['order', '"order"'],
    ['with space', '"with space"'],
    ['say "hi"', '"say ""hi"""'],
    ['_x1$', '_x1$'],
  ])('quotes %s as %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted)
  })

  it('writes compact CREATE TABLE statements with comments, keys, row counts and samples', () => {
    const text = renderSchema(demoSnapshot)
    expect(text).toContain('-- 地铁站点\nCREATE TABLE stations ( -- ~260 rows\n  id integer PRIMARY KEY,')
    expect(text).toContain("  name character varying(64) NOT NULL, -- 站名 e.g. '沈塘桥', '武林广场', '龙翔桥', '凤起路', '火车东站'")
    expect(text).toContain('  line_id integer REFERENCES lines(id), -- 所属主线路编号')
    expect(text).toContain('  PRIMARY KEY (station_id, line_id)')
    expect(text).toContain('-- 出入口：地铁站点的出入口信息（crk = 出入口）')
    expect(text).not.toContain('public.')
  })

  it('qualifies names when several schemas are present, with composite and cross-schema keys', () => {
    const text = renderSchema(
      snapshot({
        version: 'v',
        tables: [
          { schema: 'ops', name: 'Shift', columns: [{ name: 'day', type: 'date' }, { name: 'station_id', type: 'integer' }], primary_key: ['day', 'station_id'] },
          {
            name: '站点表',
            comment: 'multi\nline',
            columns: [{ name: 'day', type: 'date' }, { name: 'station_id', type: 'integer', nullable: false }],
            foreign_keys: [{ columns: ['day', 'station_id'], ref_schema: 'ops', ref_table: 'Shift', ref_columns: ['day', 'station_id'] }],
          },
          { name: 'v_busy', kind: 'view', columns: [{ name: 'n', type: 'bigint', comment: '数量' }] },
        ],
      }),
    )
    expect(text).toContain('CREATE TABLE ops."Shift" (\n  day date,\n  station_id integer,\n  PRIMARY KEY (day, station_id)\n);')
    expect(text).toContain('-- multi line\nCREATE TABLE public."站点表" (')
    expect(text).toContain('  FOREIGN KEY (day, station_id) REFERENCES ops."Shift"(day, station_id)')
    expect(text).toContain('CREATE VIEW public.v_busy (\n  n bigint -- 数量\n);')
  })

  it('bounds samples: five at most, each cut to 40 characters, quotes doubled', () => {
    const text = renderSchema(
      snapshot({ version: 'v', tables: [{ name: 't', columns: [{ name: 'c', type: 'text', samples: ["it's", 'b', 'c', 'd', 'e', 'f', 'x'.repeat(60)] }] }] }),
    )
    expect(text).toContain("e.g. 'it''s', 'b', 'c', 'd', 'e'")
    expect(text).not.toContain("'f'")
  })
})

describe('building the prompt', () => {
  it('puts instructions, schema and every example (when k allows) in the system message, then the question', () => {
    const { messages, tables } = buildPrompt({ question: '沈塘桥地铁站的信息', snapshot: demoSnapshot, examplesTopK: 100 })
    expect(messages.map((m) => m.role)).toEqual(['system', 'user'])
    const system = messages[0]!.content
    expect(system).toContain('您的问题是：')
    expect(system).toContain('sql 代码块')
    expect(system).toContain('PostgreSQL')
    expect(system).toContain(renderSchema(demoSnapshot))
    for (const example of demoSnapshot.examples) expect(system).toContain(`问题：${example.question}\nSQL：${example.sql}`)
    expect(messages[1]).toEqual({ role: 'user', content: '沈塘桥地铁站的信息' })
    expect(tables).toEqual(['lines', 'stations', 'station_lines', 'daily_ridership', 'fares', 'crk'])
  })

  it('places the history between the instructions and the question, in order', () => {
    const history = [
      { role: 'user' as const, content: '武林广场在哪条线？' },
      { role: 'assistant' as const, content: '1号线。' },
    ]
    const { messages } = buildPrompt({ question: '那沈塘桥呢？', history, snapshot: demoSnapshot })
    expect(messages.slice(1)).toEqual([...history, { role: 'user', content: '那沈塘桥呢？' }])
  })

  it('shows only the examples it is given, and none when given none', () => {
    const one = buildPrompt({ question: 'q', snapshot: demoSnapshot, examples: [demoSnapshot.examples[0]!] }).messages[0]!.content
    expect(one.match(/问题：/g)).toHaveLength(1)
    expect(buildPrompt({ question: 'q', snapshot: demoSnapshot, examples: [] }).messages[0]!.content).not.toContain('参考示例')
  })

  it("knows no domain of its own: the instructions name no metro word, and the operator's PROMPT_HINTS come after them, before the schema", () => {
    const chinook = snapshot({ version: 'v1', tables: [{ name: 'artist', comment: '艺术家', columns: [{ name: 'name', type: 'text', comment: '艺术家名' }] }], examples: [] })
    const plain = buildPrompt({ question: '有多少位艺术家？', snapshot: chinook }).messages[0]!.content
    expect(plain).not.toMatch(/地铁|站|metro|station/i)
    expect(plain).not.toContain('补充说明')
    const hinted = buildPrompt({ question: '有多少位艺术家？', snapshot: chinook, hints: '艺术家名一律用英文原名。' }).messages[0]!.content
    expect(hinted.indexOf('补充说明')).toBeGreaterThan(hinted.indexOf('请按以下格式回答'))
    expect(hinted.indexOf('艺术家名一律用英文原名。')).toBeLessThan(hinted.indexOf('数据库结构（PostgreSQL）'))
    expect(buildPrompt({ question: 'x', snapshot: chinook, hints: '  \n ' }).messages[0]!.content).toBe(buildPrompt({ question: 'x', snapshot: chinook }).messages[0]!.content)
  })

  it('is deterministic', () => {
    expect(buildPrompt({ question: 'q', snapshot: demoSnapshot })).toEqual(buildPrompt({ question: 'q', snapshot: demoSnapshot }))
  })
})

describe('the demo snapshot', () => {
  it('validates, and every example names only its tables', () => {
    expect(demoSnapshot.version).toBe('demo-1')
    const names = new Set(demoSnapshot.tables.map((t) => t.name))
    for (const example of demoSnapshot.examples) {
      for (const [, table] of example.sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)/gi)) expect(names.has(table!), `${table} in ${example.sql}`).toBe(true)
    }
    expect(demoSnapshot.tables.find((t) => t.name === 'stations')!.columns.find((c) => c.name === 'name')!.samples).toContain('沈塘桥')
  })
})
