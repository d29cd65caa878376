import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript, no type declarations
import { canonical, compareResults, ordersResult } from '../../eval/compare-results.mjs'
// @ts-expect-error plain ESM JavaScript, no type declarations
import { estimateCost, parseArgs } from '../../eval/live.mjs'
// @ts-expect-error plain ESM JavaScript, no type declarations
import { readQuestions } from '../../eval/read-questions.mjs'

const rs = (rows: unknown[][], columns = rows[0]?.map((_, i) => `c${i}`) ?? ['c0']) => ({ columns, rows })

describe('execution accuracy compares result sets as a careful evaluator does', () => {
  it.each([
    ['identical rows', [[1, 'a'], [2, 'b']], [[1, 'a'], [2, 'b']], false, true],
    ['rows in another order, gold unordered', [[1, 'a'], [2, 'b']], [[2, 'b'], [1, 'a']], false, true],
    ['rows in another order, gold ordered', [[1, 'a'], [2, 'b']], [[2, 'b'], [1, 'a']], true, false],
    ['numeric strings vs numbers (bigint, numeric)', [['42', '3.50']], [[42, 3.5]], false, true],
    ['floats within tolerance', [[0.1 + 0.2]], [['0.3']], false, true],
    ['floats that really differ', [[0.3]], [[0.31]], false, false],
    ['NULL equals only NULL', [[null]], [[null]], false, true],
    ['NULL is not 0 nor empty text', [[null]], [[0]], false, false],
    ['NULL is not empty text', [[null]], [['']], false, false],
    ['columns in another order', [['a', 1], ['b', 2]], [[1, 'a'], [2, 'b']], false, true],
    ['columns swapped but rows paired differently', [['a', 1], ['b', 2]], [[2, 'a'], [1, 'b']], false, false],
    ['an extra column', [['a']], [['a', 1]], false, false],
    ['a missing row', [['a'], ['b']], [['a']], false, false],
    ['duplicates count (multisets, not sets)', [['a'], ['a'], ['b']], [['a'], ['b'], ['b']], false, false],
    ['booleans', [[true]], [[true]], false, true],
    ['boolean vs text', [[true]], [['true']], false, false],
    ['text trimmed', [['沈塘桥 ']], [['沈塘桥']], false, true],
    ['both empty', [], [], false, true],
  ])('%s', (_name, gold, predicted, ordered, match) => {
    expect(compareResults(rs(gold as unknown[][]), rs(predicted as unknown[][]), { ordered }).match).toBe(match)
  })

  it('normalises values to one canonical text', () => {
    expect(canonical('12.00')).toBe(canonical(12))
    expect(canonical(null)).not.toBe(canonical('null'))
    expect(canonical('2026-11-30')).toBe('s:2026-11-30')
  })

  it.each([
    ['SELECT name FROM lines ORDER BY length_km DESC', true],
    ['select x from t order  by 1', true],
    ['SELECT name FROM lines', false],
    ['SELECT * FROM (SELECT name FROM lines ORDER BY name LIMIT 3) t', false],
    ['SELECT rank() OVER (ORDER BY n) FROM t', false],
    ["SELECT 'order by' FROM t", false],
    ['SELECT 1 -- order by x\nFROM t', false],
  ])('ordersResult(%j) is %s', (sql, ordered) => {
    expect(ordersResult(sql)).toBe(ordered)
  })
})

describe('the question file and the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'questions-'))
  const parseCsv = (text: string) => ({ ok: true as const, rows: text.trim().split('\n').map((l) => l.split(';')) })

  it('reads JSON with gold_sql or sql, null for cannot-answer, ids by position', () => {
    const file = join(dir, 'q.json')
    writeFileSync(file, JSON.stringify({ questions: [{ question: ' 站名 ', gold_sql: 'SELECT name FROM stations;' }, { id: 'x', question: '天气', sql: '' }] }))
    expect(readQuestions(file, parseCsv)).toEqual([
      { id: 'q001', question: '站名', sql: 'SELECT name FROM stations;', category: null },
      { id: 'x', question: '天气', sql: null, category: null },
    ])
  })

  it('reads CSV through the given parser, and names a missing column', () => {
    const file = join(dir, 'q.csv')
    writeFileSync(file, 'Question;SQL;category\n站名;SELECT name FROM stations;lookup\n')
    expect(readQuestions(file, parseCsv)).toEqual([{ id: 'q001', question: '站名', sql: 'SELECT name FROM stations', category: 'lookup' }])
    writeFileSync(file, 'q;sql\na;b\n')
    expect(() => readQuestions(file, parseCsv)).toThrow('the CSV header must name the columns question and sql')
  })

  it('refuses a duplicate id and a question without text', () => {
    const file = join(dir, 'bad.json')
    writeFileSync(file, JSON.stringify([{ id: 'a', question: 'x', sql: null }, { id: 'a', question: 'y', sql: null }]))
    expect(() => readQuestions(file, parseCsv)).toThrow('id a is used twice')
    writeFileSync(file, JSON.stringify([{ sql: 'SELECT 1' }]))
    expect(() => readQuestions(file, parseCsv)).toThrow('has no "question"')
  })

  it('parses its options and refuses unknown ones', () => {
    expect(parseArgs(['--questions', 'f.json', '--concurrency', '2', '--allow-fake'])).toMatchObject({ questions: 'f.json', concurrency: 2, allowFake: true })
    expect(() => parseArgs(['--concurency', '2'])).toThrow('unknown argument --concurency')
    expect(() => parseArgs(['--concurrency', '0'])).toThrow('must be a positive number')
  })

  it('estimates the cost from earlier answers when there are some', () => {
    const e = estimateCost(10, [{ usage: { input_tokens: 2000, output_tokens: 100 } }], { in: 0.8, out: 2, source: 'list price of qwen-plus' })
    expect(e).toMatchObject({ tokensIn: 20000, tokensOut: 1000, cost: 0.018 })
    expect(estimateCost(1, [], null).text).toContain('no price known')
  })

  afterAll(() => rmSync(dir, { recursive: true, force: true }))
})
