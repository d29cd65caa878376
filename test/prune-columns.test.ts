import { describe, expect, it } from 'vitest'
import { buildLinkIndex, type LinkInputs } from '../src/linking/link-index'
import { linkTables } from '../src/linking/select-schema'
import { buildPrompt } from '../src/prompt/build-prompt'
import { renderTable } from '../src/prompt/render-schema'
import type { GlossaryEntry } from '../src/schema/glossary'
import { parseSnapshot } from '../src/schema/snapshot-store'
import type { Snapshot, Table } from '../src/schema/snapshot-schema'

/**
 * A metro schema with one wide table: `readings` has 60 columns, of which a question needs a few.
 * 40 narrow filler tables make the schema far bigger than the budgets below, so linking engages.
 */
const FILLER_METRICS = 50
const readings: Table = {
  schema: 'public',
  name: 'readings',
  kind: 'table',
  comment: '车站每日运营读数',
  primary_key: ['reading_id'],
  columns: [
    { name: 'reading_id', type: 'bigint' },
    ...Array.from({ length: FILLER_METRICS / 2 }, (_, i) => ({ name: `m${String(i).padStart(2, '0')}`, type: 'numeric', comment: `传感器 ${i}` })),
    { name: 'station_ref', type: 'integer' },
    { name: 'device_key', type: 'text' },
    { name: 'reading_date', type: 'date' },
    { name: '客流量', type: 'integer', comment: '进站人次' },
    { name: 'Weather Code', type: 'text', comment: 'weather at opening' },
    { name: 'fault_kind', type: 'text' },
    { name: 'energy_kwh', type: 'numeric', comment: 'electricity used' },
    { name: 'name', type: 'text' },
    ...Array.from({ length: FILLER_METRICS / 2 }, (_, i) => ({ name: `m${FILLER_METRICS / 2 + i}`, type: 'numeric', comment: `传感器 ${FILLER_METRICS / 2 + i}` })),
  ],
  foreign_keys: [{ columns: ['station_ref'], ref_table: 'stations', ref_columns: ['station_id'] }],
}
const stations: Table = {
  schema: 'public', name: 'stations', kind: 'table', comment: '地铁站', primary_key: ['station_id'],
  columns: [{ name: 'station_id', type: 'integer' }, { name: 'station_name', type: 'text', comment: '站名' }, { name: 'district', type: 'text' }],
}
// `devices` points at readings.device_key, which is neither readings' key nor named by any question.
const devices: Table = {
  schema: 'public', name: 'devices', kind: 'table', comment: '设备', primary_key: ['device_id'],
  columns: [{ name: 'device_id', type: 'integer' }, { name: 'reading_device', type: 'text' }, { name: 'vendor', type: 'text' }],
  foreign_keys: [{ columns: ['reading_device'], ref_table: 'readings', ref_columns: ['device_key'] }],
}
const filler: Table[] = Array.from({ length: 40 }, (_, i) => ({
  schema: 'public', name: `ledger_${i}`, kind: 'table', comment: '财务台账',
  columns: Array.from({ length: 8 }, (_, c) => ({ name: `amount_${c}`, type: 'numeric(12,2)', comment: '金额' })),
}))

function snapshotOf(glossary?: GlossaryEntry[]): Snapshot {
  const parsed = parseSnapshot({ version: 'wide-1', tables: [...filler.slice(0, 20), readings, stations, devices, ...filler.slice(20)], examples: [], ...(glossary ? { glossary } : {}) })
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.snapshot
}
const snapshot = snapshotOf()
const inputs: LinkInputs = { values: [{ schema: 'public', table: 'readings', column: 'fault_kind', values: ['信号故障', '道岔故障', '屏蔽门故障'] }] }
const index = buildLinkIndex(snapshot, inputs)
const R = snapshot.tables.findIndex((t) => t.name === 'readings')
// Below what `readings` costs whole (~470 tokens): it can only be kept pruned.
const BUDGET = 400

function shownFor(question: string, opts: { history?: string[]; pinnedColumns?: { table: number; column: string }[]; wide?: number; budget?: number } = {}) {
  const linked = linkTables(index, question, opts.budget ?? BUDGET, {
    ...(opts.history ? { history: opts.history } : {}),
    ...(opts.pinnedColumns ? { pinnedColumns: opts.pinnedColumns } : {}),
    columns: { tables: snapshot.tables, wide: opts.wide ?? 20 },
  })
  return { linked, shown: linked.shown.get(R) }
}

describe('column pruning inside kept tables', () => {
  const KEYS = ['reading_id', 'station_ref', 'device_key', 'name']
  it.each([
    { rule: 'keys of both foreign-key ends and the label column, whatever the question', question: '每天的车站运营读数', shows: KEYS, hides: ['m49'] },
    { rule: 'a column the question names through its comment', question: '每个车站运营读数里的耗电量 electricity', shows: [...KEYS, 'energy_kwh'], hides: ['m49'] },
    { rule: 'a Chinese column name (quoted when rendered)', question: '车站运营读数里客流量最大的一天', shows: [...KEYS, '客流量'], hides: ['m49'] },
    { rule: 'a column whose name needs quoting, named by its words', question: 'readings by weather code', shows: [...KEYS, 'Weather Code'], hides: ['m49'] },
    { rule: 'the column holding a value the question names', question: '发生信号故障的读数有哪些', shows: [...KEYS, 'fault_kind'], hides: ['m49'] },
    { rule: 'a column named only in an earlier turn of the conversation', question: '那上个月呢？', history: ['车站运营读数里客流量最大的一天'], shows: [...KEYS, '客流量'], hides: ['m49'] },
  ])('shows $rule', ({ question, history, shows, hides }) => {
    const { linked, shown } = shownFor(question, history ? { history } : {})
    expect(linked.tables).toContain(R)
    expect(shown).toBeDefined()
    expect(shown).toEqual(expect.arrayContaining(shows))
    for (const name of hides) expect(shown).not.toContain(name)
    // Shown in the table's own order.
    expect(shown).toEqual(readings.columns.map((c) => c.name).filter((n) => shown!.includes(n)))
  })

  it('shows the columns a glossary term names, though the question says nothing of them', () => {
    const { shown } = shownFor('车站运营读数的统计', { pinnedColumns: [{ table: R, column: 'm37' }] })
    expect(shown).toContain('m37')
    expect(shownFor('车站运营读数的统计').shown).not.toContain('m37')
  })

  it.each([
    { rule: 'pruning is off (0)', wide: 0, budget: index.tokens[R]! + 100 },
    { rule: 'the table is not wider than the threshold', wide: readings.columns.length, budget: index.tokens[R]! + 100 },
    { rule: 'the whole table fits its share of a large budget', wide: 20, budget: 100_000 },
  ])('shows every column when $rule', ({ wide, budget }) => {
    const { linked, shown } = shownFor('车站运营读数里客流量最大的一天', { wide, budget })
    expect(linked.tables).toContain(R)
    expect(shown).toBeUndefined()
  })

  it('costs the whole table more than the budget, so it must be pruned to be kept', () => {
    expect(index.tokens[R]).toBeGreaterThan(BUDGET)
  })

  it('spends what it saves on more tables, within the budget', () => {
    const question = '车站运营读数里客流量最大的一天，是哪个地铁站，设备的厂商'
    const whole = index.tokens[R]!
    const budget = whole + 40
    const off = linkTables(index, question, budget, { columns: { tables: snapshot.tables, wide: 0 } })
    const on = linkTables(index, question, budget, { columns: { tables: snapshot.tables, wide: 20 } })
    const names = (tables: number[]) => tables.map((t) => snapshot.tables[t]!.name)
    expect(names(off.tables)).not.toContain('devices')
    expect(names(on.tables)).toEqual(expect.arrayContaining(['readings', 'stations', 'devices']))
    expect(on.tokens).toBeLessThanOrEqual(budget)
  })

  it('gives the budget left at the end back to the pruned table', () => {
    // A budget that fits readings pruned with room to spare but not whole: more columns than its share.
    const whole = index.tokens[R]!
    const small = shownFor('车站运营读数', { budget: 300 }).shown!
    const roomy = shownFor('车站运营读数', { budget: whole - 20 })
    expect(roomy.shown!.length).toBeGreaterThan(small.length)
    expect(roomy.linked.tokens).toBeLessThanOrEqual(whole - 20)
  })
})

describe('a pruned table in the prompt', () => {
  it('says how many columns were left out, inside its CREATE TABLE', () => {
    const shown = ['reading_id', 'station_ref', '客流量', 'Weather Code']
    const text = renderTable(readings, true, shown)
    expect(text).toContain(`-- ${readings.columns.length - shown.length} more columns not shown\n);`)
    expect(text).toContain('  "客流量" integer, -- 进站人次')
    expect(text).toContain('  "Weather Code" text -- weather at opening')
    expect(text).not.toContain('m10')
    // Unpruned, the same table has no such line.
    expect(renderTable(readings, true)).not.toContain('not shown')
  })

  it('is what buildPrompt sends for a schema over the budget, unless SCHEMA_WIDE_TABLE_COLUMNS is 0', () => {
    const question = '车站运营读数里客流量最大的一天'
    const pruned = buildPrompt({ question, snapshot, schemaTokenBudget: BUDGET }).messages[0]!.content
    expect(pruned).toMatch(/CREATE TABLE readings \([\s\S]*"客流量" integer[\s\S]*-- \d+ more columns not shown\n\);/)
    expect(pruned).not.toContain('m49 numeric')
    // Without pruning the same budget cannot hold the table at all.
    const whole = buildPrompt({ question, snapshot, schemaTokenBudget: BUDGET, wideTableColumns: 0 }).messages[0]!.content
    expect(whole).not.toContain('not shown')
    expect(whole).not.toContain('CREATE TABLE readings')
  })

  it('keeps a glossary term\'s column in the prompt', () => {
    const glossary: GlossaryEntry[] = [{ term: '传感器三十七', definition: '第 37 号传感器的读数', columns: ['readings.m37'] }]
    const prompt = buildPrompt({ question: '车站运营读数中传感器三十七的平均值', snapshot: snapshotOf(glossary), schemaTokenBudget: BUDGET })
    const text = prompt.messages[0]!.content
    expect(text).toContain('m37 numeric')
    expect(text).toContain('more columns not shown')
  })
})
