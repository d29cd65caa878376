// The playground's pure browser modules (public/js/), table-driven, in Node; and the page's asset links.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { ADMIN_PAGE, buildBundles, withAssetLinks } from '../../scripts/build-assets.mjs'
// @ts-expect-error plain browser ES module, no type declarations
import { niceTicks } from '../../public/js/chart.js'
// @ts-expect-error plain browser ES module
import { pickLanguage } from '../../public/js/i18n.js'
// @ts-expect-error plain browser ES module
import { chooseChart, formatCell, formatNumber, toCsv, toNumber } from '../../public/js/result-data.js'
// @ts-expect-error plain browser ES module
import { tokenizeSql } from '../../public/js/sql-highlight.js'

type Token = { type: string; text: string }
const tokens = (sql: string) => (tokenizeSql(sql) as Token[]).filter((t) => t.type !== 'space').map((t) => `${t.type}:${t.text}`)

describe('tokenizeSql', () => {
  it.each([
    ["SELECT name FROM stations WHERE name LIKE '%沈塘桥%'", ['keyword:SELECT', 'word:name', 'keyword:FROM', 'word:stations', 'keyword:WHERE', 'word:name', 'keyword:LIKE', "string:'%沈塘桥%'"]],
    ["select count(*) from t -- 站点\n", ['keyword:select', 'function:count', 'punct:(', 'op:*', 'punct:)', 'keyword:from', 'word:t', 'comment:-- 站点']],
    ['SELECT "站名", 1.5e3, .5, x::int FROM "t""q"', ['keyword:SELECT', 'ident:"站名"', 'punct:,', 'number:1.5e3', 'punct:,', 'number:.5', 'punct:,', 'word:x', 'op:::', 'word:int', 'keyword:FROM', 'ident:"t""q"']],
    ["SELECT 'it''s', $$a;b$$, $x$ y $x$ /* c */", ['keyword:SELECT', "string:'it''s'", 'punct:,', 'string:$$a;b$$', 'punct:,', 'string:$x$ y $x$', 'comment:/* c */']],
    ["SELECT 'unterminated", ['keyword:SELECT', "string:'unterminated"]],
  ])('splits %j by lexical class', (sql, expected) => {
    expect(tokens(sql)).toEqual(expected)
  })

  it('gives the input back unchanged when the tokens are joined', () => {
    const sql = "WITH t AS (SELECT s.name, SUM(r.entries) FROM daily_ridership r JOIN stations s ON s.id = r.station_id GROUP BY 1)\nSELECT * FROM t WHERE x <> 'a' || 'b' /* 注释 */ ;\t😀"
    expect((tokenizeSql(sql) as Token[]).map((t) => t.text).join('')).toBe(sql)
  })
})

describe('chooseChart', () => {
  const col = (name: string, type: string) => ({ name, type })
  it.each([
    ['one text label and a bigint → bars', [col('name', 'character varying'), col('total', 'bigint')], [['a', '10'], ['b', '20']], { kind: 'bar', label: 0, series: [1] }],
    ['a date label → a line', [col('day', 'date'), col('entries', 'bigint'), col('exits', 'bigint')], [['2026-11-01', '1'], ['2026-11-02', '2']], { kind: 'line', label: 0, series: [1, 2] }],
    ['a timestamptz label → a line', [col('n', 'integer'), col('at', 'timestamptz')], [[1, '2026-11-01T00:00:00+00:00']], { kind: 'line', label: 1, series: [0] }],
    ['two label columns → none', [col('name', 'text'), col('district', 'text'), col('n', 'integer')], [['a', 'b', 1]], null],
    ['no numeric column → none', [col('name', 'text')], [['a']], null],
    ['repeated labels → none', [col('day', 'date'), col('n', 'integer')], [['2026-11-01', 1], ['2026-11-01', 2]], null],
    ['no rows → none', [col('name', 'text'), col('n', 'integer')], [], null],
  ])('%s', (_, columns, rows, expected) => {
    expect(chooseChart(columns, rows)).toEqual(expected)
  })
})

describe('result values', () => {
  it.each([
    [12, 12], ['12345678901234567890', 12345678901234567000], ['3.50', 3.5], ['NaN', null], ['', null], [null, null], ['abc', null], [Infinity, null],
  ])('toNumber(%j) is %j', (value, expected) => {
    expect(toNumber(value)).toBe(expected)
  })

  it.each([
    [null, ''], [true, 'true'], [{ a: 1 }, '{"a":1}'], [[1, 2], '[1,2]'], ['沈塘桥', '沈塘桥'],
  ])('formatCell(%j) is %j', (value, expected) => {
    expect(formatCell(value)).toBe(expected)
  })

  it('writes RFC 4180 CSV with a BOM, quoting commas, quotes, line breaks and edge spaces', () => {
    const csv = toCsv([{ name: 'name', type: 'text' }, { name: 'note, "quoted"', type: 'text' }], [['沈塘桥', 'a\nb'], [' x', null], ['"q"', 1.5]])
    expect(csv).toBe('\ufeffname,"note, ""quoted"""\r\n沈塘桥,"a\nb"\r\n" x",\r\n"""q""",1.5\r\n')
  })

  it('writes a text cell that a spreadsheet would run as a formula with a leading quote; numbers stay numbers', () => {
    const columns = [{ name: 'note', type: 'text' }, { name: 'delta', type: 'integer' }, { name: 'amount', type: 'numeric' }]
    const rows = [['=1+2', -5, '-1.50'], ['+A1', 3, '2'], ['-x', 0, '0'], ['@SUM(A1)', 1, '1'], ['\tx', 1, '1'], ['a=b', 1, '1']]
    const lines = toCsv(columns, rows).replace(/^\ufeff/, '').trimEnd().split('\r\n')
    expect(lines).toEqual(['note,delta,amount', "'=1+2,-5,-1.50", "'+A1,3,2", "'-x,0,0", "'@SUM(A1),1,1", "'\tx,1,1", 'a=b,1,1'])
  })

  it('also guards a formula after leading white space and the full-width ＝＋－＠ a Chinese keyboard types', () => {
    const columns = [{ name: 'note', type: 'text' }]
    const rows = [[' =1+2'], ['\u3000+A1'], ['\n-x'], ['  @SUM(A1)'], ['＝1+2'], ['＋A1'], ['－x'], ['＠SUM(A1)'], [' ＝1'], ['a ＝ b'], [' plain']]
    const lines = toCsv(columns, rows).replace(/^\ufeff/, '').trimEnd().split('\r\n')
    expect(lines).toEqual(['note', "' =1+2", "'\u3000+A1", "\"'\n-x\"", "'  @SUM(A1)", "'＝1+2", "'＋A1", "'－x", "'＠SUM(A1)", "' ＝1", 'a ＝ b', '" plain"'])
  })

  it.each([
    [1234567, 'zh-CN', 'total_passengers', '1,234,567'],
    ['12345678901234567890', 'en-US', 'total', '12,345,678,901,234,567,890'],
    ['-1234.50', 'en-US', 'amount', '-1,234.50'],
    [0.1, 'en-US', 'share', '0.1'],
    [2019, 'zh-CN', 'opened_year', '2019'],
    [1042, 'zh-CN', 'station_id', '1042'],
    [1042, 'zh-CN', 'id', '1042'],
    ['NaN', 'en-US', 'x', 'NaN'],
    [1e21, 'en-US', 'x', '1e+21'],
    [null, 'en-US', 'x', ''],
  ])('formatNumber(%j, %s, %s) is %j: separators, every digit kept, none in identifiers and years', (value, locale, column, expected) => {
    expect(formatNumber(value, locale, column)).toBe(expected)
  })
})

describe('niceTicks', () => {
  it.each([
    [0, 3596685, [0, 1000000, 2000000, 3000000, 4000000]],
    [0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [-5, 12, [-5, 0, 5, 10, 15]],
    [7, 7, [7, 7.2, 7.4, 7.6, 7.8, 8]],
  ])('covers [%d, %d] with round steps', (lo, hi, expected) => {
    expect(niceTicks(lo, hi)).toEqual(expected)
  })
})

describe('pickLanguage', () => {
  it.each([
    [['zh-CN', 'en'], 'zh'], [['zh-TW'], 'zh'], [['en-US', 'zh-CN'], 'en'], [['fr-FR', 'zh-CN'], 'zh'], [['fr-FR'], 'en'], [[], 'en'],
  ])('%j → %s', (languages, expected) => {
    expect(pickLanguage(languages)).toBe(expected)
  })
})

describe('public/index.html', () => {
  it('links the page bundle and stylesheet by their current content hash (npm run build:assets writes them; npm start and deploy run it)', async () => {
    await buildBundles()
    const html = readFileSync(new URL('../../public/index.html', import.meta.url), 'utf8')
    expect(withAssetLinks(html)).toBe(html)
  })
})

describe('the answer view the page and <txt2sql-chat> share', () => {
  // Each view draws inside the root it is given (a shadow root for the embed), with the texts and
  // client it is given: a second element on a page, or the page itself, must not see its state.
  it.each(['ask-turn.js', 'answer-text.js', 'api.js', 'basis-view.js', 'chart.js', 'dom.js', 'feedback-view.js', 'i18n.js', 'result-view.js', 'sql-highlight.js', 'turn-view.js'])(
    '%s reaches nothing of the document but createElement, and keeps no state of its own',
    (file) => {
      const source = readFileSync(new URL(`../../public/js/${file}`, import.meta.url), 'utf8')
      expect([...source.matchAll(/\bdocument\.(\w+)/g)].map((m) => m[1]!).filter((name) => !/^create(Element|ElementNS|DocumentFragment)$/.test(name))).toEqual([])
      expect(source).not.toMatch(/^(let|var) /m)
      // Per-element state keyed by element (the old result views), or variables at module level.
      expect(source).not.toMatch(/^(export )?const \w+ = new WeakMap\(/m)
    },
  )
})

describe('public/admin/index.html', () => {
  it('links the console\'s bundle and stylesheet by their current content hash, as the playground\'s', async () => {
    await buildBundles()
    const html = readFileSync(new URL('../../public/admin/index.html', import.meta.url), 'utf8')
    expect(withAssetLinks(html, ADMIN_PAGE)).toBe(html)
    expect(html).toMatch(/\/vendor\/admin\.js\?v=[0-9a-f]{10}/)
  })
})
