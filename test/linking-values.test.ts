import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { linkIndexFor } from '../src/linking/index-cache'
import { buildLinkIndex, type LinkInputs } from '../src/linking/link-index'
import { loadSynonyms } from '../src/linking/load-synonyms'
import { linkTables } from '../src/linking/select-schema'
import { parseSynonyms, relatedWords } from '../src/linking/synonyms'
import { questionSpans, valueKey } from '../src/linking/value-keys'
import { deleteSnapshot, loadSnapshot, parseSnapshot, saveSnapshot } from '../src/schema/snapshot-store'
import type { Snapshot, Table } from '../src/schema/snapshot-schema'

/** 300 filler tables in three schemas (a merged, Spider-like schema) around the tables that matter. */
function schema(): Snapshot {
  const filler: Table[] = Array.from({ length: 300 }, (_, i) => ({
    schema: `db${i % 3}`,
    name: `record_${i}_${['order', 'invoice', 'customer', 'product', 'payment'][i % 5]}`,
    kind: 'table',
    columns: [{ name: 'id', type: 'integer' }, { name: `name_${i % 7}`, type: 'text' }, { name: 'amount', type: 'numeric' }],
  }))
  const own: Table[] = [
    { schema: 'flights', name: 'airlines', kind: 'table', columns: [{ name: 'uid', type: 'integer' }, { name: 'Airline', type: 'text' }, { name: 'Abbreviation', type: 'text' }, { name: 'Country', type: 'text' }] },
    { schema: 'retail', name: 'shop', kind: 'table', columns: [{ name: 'Shop_ID', type: 'integer' }, { name: 'Location', type: 'text' }, { name: 'District', type: 'text' }] },
    { schema: 'world', name: 'country', kind: 'table', columns: [{ name: 'Code', type: 'text' }, { name: 'Continent', type: 'text' }, { name: 'IndepYear', type: 'integer' }] },
    { schema: 'cars', name: 'cars_data', kind: 'table', columns: [{ name: 'Id', type: 'integer' }, { name: 'Weight', type: 'integer' }, { name: 'Horsepower', type: 'integer' }] },
    { schema: 'metro', name: 'stations', kind: 'table', comment: '地铁站点', columns: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text', comment: '站名' }, { name: 'district', type: 'text', comment: '所在区' }] },
  ]
  const parsed = parseSnapshot({ version: 'values-1', tables: [...filler.slice(0, 150), ...own, ...filler.slice(150)], examples: [] })
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.snapshot
}

const values: NonNullable<LinkInputs['values']> = [
  { schema: 'flights', table: 'airlines', column: 'Airline', values: ['United Airlines', 'JetBlue Airways', 'Delta Airlines'] },
  { schema: 'metro', table: 'stations', column: 'name', values: ['武林广场', '沈塘桥', '火车东站'] },
  { schema: 'metro', table: 'stations', column: 'district', values: ['拱墅区', '上城区'] },
  // A table the snapshot does not have, and a column its table does not have: ignored.
  { schema: 'metro', table: 'gone', column: 'name', values: ['凤起路'] },
  { schema: 'metro', table: 'stations', column: 'missing', values: ['凤起路'] },
]

describe('value keys', () => {
  it.each([
    ['JetBlue Airways', 'jetblueairways'],
    ['  jetblue   AIRWAYS ', 'jetblueairways'],
    ['Ford Motor Company.', 'fordmotorcompany'],
    ['武林广场', '武林广场'],
    ['1号线', '1号线'],
    ['ＡＢＣ公司', 'abc公司'],
    ['2013', null],
    ['3.5', null],
    ['Yes', null],
    ['N/A', null],
    ['CA', null],
    ['x', null],
    ['one two three four five six seven eight nine', null],
  ])('%j → %j', (value, key) => {
    expect(valueKey(value)).toBe(key)
  })

  it('looks a question up by every span of its units, longest first', () => {
    expect(questionSpans('Is Jetblue Airways big?')).toEqual(['isjetblueairwaysbig', 'isjetblueairways', 'jetblueairwaysbig', 'isjetblue', 'jetblueairways', 'airwaysbig', 'is', 'jetblue', 'airways', 'big'])
    expect(questionSpans('到武林广场')).toContain('武林广场')
  })
})

describe('row values in linking', () => {
  const snapshot = schema()
  const index = buildLinkIndex(snapshot, { values })
  const name = (t: number) => `${snapshot.tables[t]!.schema}.${snapshot.tables[t]!.name}`

  it.each([
    ['What country is Jetblue Airways affiliated with?', 'flights.airlines', 'Airline'],
    ['what country is JETBLUE AIRWAYS in', 'flights.airlines', 'Airline'],
    ['从武林广场到火车东站要多久', 'metro.stations', 'name'],
    ['拱墅区有几个', 'metro.stations', 'district'],
  ])('%j finds %s.%s by a value it names', (question, table, column) => {
    const linked = linkTables(index, question, 60)
    expect(linked.tables.map(name)).toContain(table)
    expect(linked.values.map((v) => `${name(v.table)}.${v.column}`)).toContain(`${table}.${column}`)
  })

  it('finds nothing by values the index was not given (filler words, numbers, vague values)', () => {
    const linked = linkTables(index, 'Which of them was 2013, yes or no: 凤起路?', 60)
    expect(linked.values).toEqual([])
  })

  it('keeps the values in the index compact: keys once, columns by number', () => {
    expect(index.columns.map(([t, c]) => `${name(t)}.${c}`)).toEqual(['flights.airlines.Airline', 'metro.stations.name', 'metro.stations.district'])
    expect(index.values['jetblueairways']).toEqual([0])
    expect(Object.keys(index.values)).toHaveLength(8)
  })

  it('is stored with the snapshot and comes back with it', async () => {
    await deleteSnapshot(env.SCHEMA_KV)
    await saveSnapshot(env.SCHEMA_KV, snapshot, { linking: { values } })
    const loaded = await loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(linkIndexFor(loaded).values).toEqual(index.values)
    await deleteSnapshot(env.SCHEMA_KV)
  })

  it('stores a new body when only the values changed', async () => {
    await deleteSnapshot(env.SCHEMA_KV)
    const first = await saveSnapshot(env.SCHEMA_KV, snapshot, { linking: { values } })
    const same = await saveSnapshot(env.SCHEMA_KV, snapshot, { linking: { values } })
    const more = await saveSnapshot(env.SCHEMA_KV, snapshot, { linking: { values: [...values, { schema: 'retail', table: 'shop', column: 'District', values: ['Espoo'] }] } })
    expect(same.changed).toBe(false)
    expect(more.changed).toBe(true)
    expect(more.pointer.body).not.toBe(first.pointer.body)
    await deleteSnapshot(env.SCHEMA_KV)
  })
})

describe('synonyms', () => {
  const table = parseSynonyms('# a note\nshop\tstore\ncountry\tnation land state\nweight\theavy heavier lighter\n店铺\t商店\nbroken line\n')

  it('parses head words and skips notes and malformed lines', () => {
    expect([...table.keys()]).toEqual(['shop', 'country', 'weight', '店铺'])
  })

  it.each([
    ['Shop_ID', ['store']],
    ['countries', ['nation', 'land', 'state']],
    ['Weight', ['heavy', 'heavier', 'lighter']],
    ['店铺名称', ['商店']],
    ['district', []],
  ])('%j relates to %j', (text, related) => {
    expect(relatedWords(table, text)).toEqual(related)
  })

  it('come from the static asset, read once at refresh time (not in the Worker bundle)', async () => {
    const synonyms = await loadSynonyms(env.ASSETS)
    expect(synonyms.size).toBeGreaterThan(1000)
    expect(synonyms.get('shop')).toContain('store')
    expect(synonyms.get('weight')).toContain('lighter')
    expect(await loadSynonyms(env.ASSETS)).toBe(synonyms)
    expect((await loadSynonyms(undefined)).size).toBe(0)
  })

  it.each([
    ['List all the stores.', 'retail.shop'],
    ['Give the names of the nations that were founded after 1950.', 'world.country'],
    ['Which models are lighter than 3500?', 'cars.cars_data'],
  ])('%j finds %s only through a synonym', async (question, table) => {
    const snapshot = schema()
    const name = (t: number) => `${snapshot.tables[t]!.schema}.${snapshot.tables[t]!.name}`
    const without = linkTables(buildLinkIndex(snapshot), question, 60).tables.map(name)
    const synonyms = await loadSynonyms(env.ASSETS)
    const withSynonyms = linkTables(buildLinkIndex(snapshot, { synonyms }), question, 60).tables.map(name)
    expect(without).not.toContain(table)
    expect(withSynonyms).toContain(table)
  })
})

describe('follow-up questions', () => {
  it('link with the earlier questions\' words at a lower weight', () => {
    const snapshot = schema()
    const index = buildLinkIndex(snapshot)
    const name = (t: number) => `${snapshot.tables[t]!.schema}.${snapshot.tables[t]!.name}`
    expect(linkTables(index, '那女生呢？', 60).tables.map(name)).not.toContain('metro.stations')
    expect(linkTables(index, '那女生呢？', 60, { history: ['地铁站点有哪些'] }).tables.map(name)).toContain('metro.stations')
  })
})
