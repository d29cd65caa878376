import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { attachLinkIndex, linkIndexFor } from '../src/linking/index-cache'
import { buildLinkIndex } from '../src/linking/link-index'
import { selectExamples } from '../src/linking/select-examples'
import { linkTables } from '../src/linking/select-schema'
import { estimateTokens, pairTerms, splitWords, terms } from '../src/linking/tokenize'
import { buildPrompt } from '../src/prompt/build-prompt'
import { parseSnapshot, deleteSnapshot, loadSnapshot, saveSnapshot } from '../src/schema/snapshot-store'
import type { Snapshot, Table } from '../src/schema/snapshot-schema'

/** A big enterprise-like schema: 400 filler tables around a few that matter. */
function bigSnapshot(): Snapshot {
  const filler: Table[] = Array.from({ length: 400 }, (_, i) => ({
    schema: 'public',
    name: `tbl_${i}_${['order', 'invoice', 'customer', 'product', 'warehouse'][i % 5]}`,
    kind: 'table',
    comment: ['订单明细', '发票记录', '客户档案', '商品目录', '仓库库存'][i % 5]!,
    columns: Array.from({ length: 12 }, (_, c) => ({ name: `col_${c}_amount`, type: 'numeric(12,2)', comment: '金额' })),
  }))
  const dtzpt: Table = { schema: 'public', name: 'dtzpt', kind: 'table', comment: '地铁站点', columns: [{ name: 'zdbh', type: 'integer' }, { name: 'zdmc', type: 'text', comment: '站点名称', samples: ['沈塘桥', '武林广场'] }], primary_key: ['zdbh'] }
  const xl: Table = { schema: 'public', name: 'xl', kind: 'table', comment: '地铁线路', columns: [{ name: 'xlbh', type: 'integer' }, { name: 'xlmc', type: 'text', comment: '线路名称' }], primary_key: ['xlbh'] }
  const link: Table = {
    schema: 'public', name: 'zd_xl', kind: 'table', columns: [{ name: 'zdbh', type: 'integer' }, { name: 'xlbh', type: 'integer' }],
    foreign_keys: [{ columns: ['zdbh'], ref_table: 'dtzpt', ref_columns: ['zdbh'] }, { columns: ['xlbh'], ref_table: 'xl', ref_columns: ['xlbh'] }],
  }
  const parsed = parseSnapshot({ version: 'big-1', tables: [...filler.slice(0, 200), dtzpt, ...filler.slice(200), xl, link], examples: [] })
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.snapshot
}

describe('words for linking', () => {
  it('splits identifiers and stems English; Chinese becomes single characters and character bigrams', () => {
    expect(splitWords('stadiumID Song_Name')).toEqual(['stadium', 'id', 'song', 'name'])
    expect(terms('How many singers')).toEqual(['singer', 'singe~'])
    expect(terms('沈塘桥站')).toEqual(['沈·', '塘·', '桥·', '站·', '沈塘', '塘桥', '桥站'])
    expect(terms('每本书的')).toEqual(['本·', '书·', '每本', '本书', '书的'])
  })

  it('a lone Chinese character is also the weak single-character term, so a table named 人 meets a question saying 人数', () => {
    expect(terms('人')).toEqual(['人', '人·'])
    expect(terms('人数')).toContain('人·')
    const tables: Table[] = [
      { schema: 'public', name: '人', kind: 'table', columns: [{ name: '人ID', type: 'integer' }, { name: '身高', type: 'real' }] },
      ...Array.from({ length: 20 }, (_, i): Table => ({ schema: 'public', name: `表${i}`, kind: 'table', columns: [{ name: '金额', type: 'numeric' }] })),
    ]
    const index = buildLinkIndex({ tables, examples: [] })
    expect(linkTables(index, '一共有多少人？', Math.max(...index.tokens) + 1).tables).toEqual([0])
  })

  it('pairs adjacent words, so a multi-word column and the question naming it share a term', () => {
    expect(pairTerms('Number_products')).toEqual(['number+product'])
    expect(pairTerms('the number of products')).toEqual(['number+product'])
    expect(pairTerms('沈塘桥站')).toEqual([])
  })

  it('estimates Chinese at 1.5 characters per token and the rest at 3.5', () => {
    expect(estimateTokens('地铁站点')).toBe(3)
    expect(estimateTokens('SELECT 1')).toBe(3)
  })
})

describe('the prompt for a small schema', () => {
  it('sends every table, and every example when k allows', () => {
    const prompt = buildPrompt({ question: '沈塘桥地铁站的信息', snapshot: demoSnapshot, examplesTopK: 100 })
    expect(prompt.tables).toEqual(demoSnapshot.tables.map((t) => t.name))
    for (const e of demoSnapshot.examples) expect(prompt.messages[0]!.content).toContain(e.question)
  })

  it('sends the k examples most like the question (default 5)', () => {
    const system = buildPrompt({ question: '龙翔桥地铁站的信息', snapshot: demoSnapshot }).messages[0]!.content
    const shown = demoSnapshot.examples.filter((e) => system.includes(`问题：${e.question}`))
    expect(shown).toHaveLength(5)
    expect(shown.map((e) => e.question)).toContain('沈塘桥地铁站的信息')
  })
})

describe('the prompt for a big schema (schema linking)', () => {
  const big = bigSnapshot()
  const whole = linkIndexFor(big).tokens.reduce((a, b) => a + b, 0)

  it('is over the budget whole', () => {
    expect(whole).toBeGreaterThan(3000)
  })

  it('keeps the table whose Chinese comment and sample value match the question, within budget', () => {
    const prompt = buildPrompt({ question: '沈塘桥地铁站的信息', snapshot: big, schemaTokenBudget: 600 })
    expect(prompt.tables).toContain('dtzpt')
    expect(prompt.tables.length).toBeLessThan(big.tables.length)
    const schema = prompt.messages[0]!.content
    expect(schema).toContain('站点名称')
    expect(schema).toContain('沈塘桥')
    expect(estimateTokens(schema)).toBeLessThan(600 + 400) // schema within budget + the instructions
  })

  it('pulls in the table joining two matched ones (the foreign-key path)', () => {
    const linked = linkTables(linkIndexFor(big), '每个地铁站点属于哪条地铁线路', 400)
    const names = linked.tables.map((i) => big.tables[i]!.name)
    expect(names).toEqual(expect.arrayContaining(['dtzpt', 'xl', 'zd_xl']))
    expect(linked.tokens).toBeLessThanOrEqual(400)
  })

  it('links a follow-up with the words of the questions before it', () => {
    const alone = buildPrompt({ question: '那女生呢？', snapshot: big, schemaTokenBudget: 600 })
    const followUp = buildPrompt({ question: '那女生呢？', snapshot: big, schemaTokenBudget: 600, history: [{ role: 'user', content: '沈塘桥地铁站的信息' }, { role: 'assistant', content: 'SELECT 1' }] })
    expect(alone.tables).not.toContain('dtzpt')
    expect(followUp.tables).toContain('dtzpt')
  })

  it('a literal found in a sample value pulls its table in even without other words', () => {
    const names = linkTables(linkIndexFor(big), '武林广场', 200).tables.map((i) => big.tables[i]!.name)
    expect(names).toContain('dtzpt')
  })
})

describe('multi-word names in English questions', () => {
  // 60 tables that each know "number" and "product" apart, one that has them as one column.
  const filler: Table[] = Array.from({ length: 60 }, (_, i) => ({
    schema: 'public', name: `product_${i}`, kind: 'table',
    columns: [{ name: 'product_id', type: 'integer' }, { name: 'serial_number', type: 'text' }, { name: 'product_name', type: 'text' }],
  }))
  const stats: Table = { schema: 'public', name: 'store_stats', kind: 'table', columns: [{ name: 'store_id', type: 'integer' }, { name: 'Number_products', type: 'integer' }] }
  const parsed = parseSnapshot({ version: 'pairs-1', tables: [...filler.slice(0, 30), stats, ...filler.slice(30)], examples: [] })
  if (!parsed.ok) throw new Error(parsed.error)
  const snapshot = parsed.snapshot

  it('keeps the table whose column the question names in full when the budget fits one table', () => {
    const index = linkIndexFor(snapshot)
    const budget = Math.max(...index.tokens) + 1
    const names = linkTables(index, 'What is the total number of products?', budget).tables.map((i) => snapshot.tables[i]!.name)
    expect(names).toEqual(['store_stats'])
  })
})

describe('tables read through their parents', () => {
  // Small tables named after the question's other word outrank `country`, which it never names.
  const notes: Table[] = Array.from({ length: 10 }, (_, i) => ({ schema: 'public', name: `official_${i}`, kind: 'table', columns: [{ name: 'note', type: 'text' }] }))
  const country: Table = {
    schema: 'public', name: 'country', kind: 'table', primary_key: ['code'],
    columns: ['code', 'name', 'continent', 'region', 'surface_area', 'population', 'gnp'].map((name) => ({ name, type: 'text' })),
  }
  const spoken: Table = {
    schema: 'public', name: 'countrylanguage', kind: 'table',
    columns: [{ name: 'country_code', type: 'text' }, { name: 'language', type: 'text' }, { name: 'is_official', type: 'boolean' }],
    foreign_keys: [{ columns: ['country_code'], ref_table: 'country', ref_columns: ['code'] }],
  }
  const parsed = parseSnapshot({ version: 'refs-1', tables: [...notes, country, spoken], examples: [] })
  if (!parsed.ok) throw new Error(parsed.error)
  const snapshot = parsed.snapshot

  it('keeps the table a kept table references before other matches take the budget', () => {
    const index = linkIndexFor(snapshot)
    const budget = index.tokens[10]! + index.tokens[11]!
    const names = linkTables(index, 'Which languages are official?', budget).tables.map((i) => snapshot.tables[i]!.name)
    expect(names).toEqual(['country', 'countrylanguage'])
  })

  it('lets a better direct match go first: the parent competes, it is not forced in', () => {
    // station_lines matches best (its comment shares 线路), lines next; station_lines' other
    // parent, stations, is the biggest table and would leave no room for lines.
    const demo = { ...demoSnapshot, examples: [] }
    const index = buildLinkIndex(demo)
    const names = linkTables(index, '各条线路的长度和开通日期', 300).tables.map((i) => demo.tables[i]!.name)
    expect(names).toContain('lines')
    expect(names).toContain('station_lines')
  })
})

describe('example selection', () => {
  const examples = [
    ...Array.from({ length: 20 }, (_, i) => ({ question: `仓库${i}号的库存总额`, sql: `SELECT sum(col_1_amount) FROM tbl_${i}_warehouse` })),
    { question: '龙翔桥站的信息', sql: "SELECT * FROM dtzpt WHERE zdmc LIKE '%龙翔桥%'" },
  ]
  const snapshot = { ...bigSnapshot(), examples }
  const index = buildLinkIndex(snapshot)

  it('puts the most similar example first, values masked, top k only', () => {
    const chosen = selectExamples(index, examples, '沈塘桥站的信息', 3, 800)
    expect(chosen).toHaveLength(3)
    expect(chosen[0]!.question).toBe('龙翔桥站的信息')
  })

  it('keeps them all when they fit', () => {
    expect(selectExamples(index, examples.slice(0, 3), '任何问题', 5, 800)).toHaveLength(3)
  })
})

describe('the link index travels with the stored snapshot', () => {
  it('is stored at save and attached at load, equal to a fresh build', async () => {
    await deleteSnapshot(env.SCHEMA_KV)
    await saveSnapshot(env.SCHEMA_KV, demoSnapshot)
    const loaded = await loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(linkIndexFor(loaded)).toEqual(buildLinkIndex(loaded))
    expect(linkIndexFor(loaded)).toBe(linkIndexFor(loaded))
  })

  it('is rebuilt when it was stored in an older format', () => {
    const snapshot = structuredClone(demoSnapshot)
    const old = { ...buildLinkIndex(snapshot), v: 1, postings: {} }
    attachLinkIndex(snapshot, old)
    expect(linkIndexFor(snapshot)).toEqual(buildLinkIndex(snapshot))
  })
})
