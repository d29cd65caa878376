import { describe, expect, it } from 'vitest'
import { MAX_IMPORT_ROWS, parseExamplesCsv, parseExamplesJson } from '../src/examples/example-input'
import { parseCsv } from '../src/examples/parse-csv'

describe('parseCsv reads RFC 4180 CSV into rows', () => {
  const cases: [string, string, string[][]][] = [
    ['plain fields, LF, trailing newline', 'a,b\n1,2\n', [['a', 'b'], ['1', '2']]],
    ['no trailing newline', 'a,b\n1,2', [['a', 'b'], ['1', '2']]],
    ['CRLF line endings', 'a,b\r\n1,2\r\n', [['a', 'b'], ['1', '2']]],
    ['CRLF without a trailing newline', 'a,b\r\n1,2', [['a', 'b'], ['1', '2']]],
    ['a lone CR as a line ending', 'a,b\r1,2\r', [['a', 'b'], ['1', '2']]],
    ['a leading BOM, not part of the first field', '\uFEFFquestion,sql\n1,2\n', [['question', 'sql'], ['1', '2']]],
    ['a quoted field with commas', 'a,b\n"x, y, z",2\n', [['a', 'b'], ['x, y, z', '2']]],
    ['doubled quotes inside a quoted field', '"say ""hi""",b\n', [['say "hi"', 'b']]],
    ['a field that is only a doubled quote', '"""",b\n', [['"', 'b']]],
    ['LF inside quotes', '"line1\nline2",b\n', [['line1\nline2', 'b']]],
    ['CRLF inside quotes is kept as is', '"line1\r\nline2",b\r\n', [['line1\r\nline2', 'b']]],
    ['blank lines are skipped', '\na,b\n\n\n1,2\n\n', [['a', 'b'], ['1', '2']]],
    ['blank CRLF lines are skipped', 'a,b\r\n\r\n1,2\r\n', [['a', 'b'], ['1', '2']]],
    ['empty fields are kept', ',\na,,c\n', [['', ''], ['a', '', 'c']]],
    ['an empty quoted field', '"",x\n', [['', 'x']]],
    ['spaces are kept', ' a , b \n', [[' a ', ' b ']]],
    ['Chinese text', '问题,sql\n沈塘桥地铁站的信息,"SELECT * FROM stations WHERE name = \'沈塘桥\'"\n', [['问题', 'sql'], ['沈塘桥地铁站的信息', "SELECT * FROM stations WHERE name = '沈塘桥'"]]],
    ['rows of different lengths', 'a,b,c\n1\n', [['a', 'b', 'c'], ['1']]],
    ['empty text', '', []],
    ['only a BOM', '\uFEFF', []],
    ['only newlines', '\n\r\n\n', []],
  ]
  for (const [what, text, rows] of cases) {
    it(what, () => {
      expect(parseCsv(text)).toEqual({ ok: true, rows })
    })
  }

  const errors: [string, string, RegExp][] = [
    ['an unterminated quote on the first line', '"abc,def\n', /^line 1: a quoted field is not closed$/],
    ['an unterminated quote, reported at the line where it opened', 'a,b\n1,2\n"open\nmore\nand more\n', /^line 3: a quoted field is not closed$/],
    ['an unterminated quote after a closed multi-line field', '"x\ny",z\nq,"open\n', /^line 3: a quoted field is not closed$/],
    ['a quote inside an unquoted field', 'a,b\nab"c,d\n', /^line 2: a quote inside an unquoted field$/],
    ['a quote inside an unquoted field after a quoted newline', '"x\ny",z\nq,w"\n', /^line 3: a quote inside an unquoted field$/],
    ['a quote inside an unquoted field after CRLF lines', 'a\r\nb\r\nc"\r\n', /^line 3: a quote inside an unquoted field$/],
  ]
  for (const [what, text, message] of errors) {
    it(`fails on ${what}`, () => {
      const result = parseCsv(text)
      expect(result.ok).toBe(false)
      expect(!result.ok && result.error).toMatch(message)
    })
  }
})

describe('parseExamplesCsv turns a CSV with a header into question→SQL pairs', () => {
  const ok: [string, string, { question: string; sql: string; approved?: boolean }[]][] = [
    ['question, sql', 'question,sql\nq1,SELECT 1\n', [{ question: 'q1', sql: 'SELECT 1' }]],
    ['columns in another order', 'sql,question\nSELECT 1,q1\n', [{ question: 'q1', sql: 'SELECT 1' }]],
    ['header names in any case and padded', ' SQL , Question \nSELECT 1,q1\n', [{ question: 'q1', sql: 'SELECT 1' }]],
    ['extra columns are ignored', 'id,question,note,sql\n7,q1,x,SELECT 1\n', [{ question: 'q1', sql: 'SELECT 1' }]],
    ['question and sql are trimmed', 'question,sql\n"  q1  ","\n SELECT 1 \n"\n', [{ question: 'q1', sql: 'SELECT 1' }]],
    [
      'quoted SQL with commas, quotes and newlines',
      'question,sql\r\n"各线路站点数, 按线路","SELECT line_id, count(*)\r\nFROM station_lines\r\nWHERE note <> \'\'\'\'\r\nGROUP BY 1"\r\n',
      [{ question: '各线路站点数, 按线路', sql: "SELECT line_id, count(*)\r\nFROM station_lines\r\nWHERE note <> ''''\r\nGROUP BY 1" }],
    ],
    ['Chinese text with a BOM', '\uFEFFquestion,sql\n沈塘桥地铁站的信息,SELECT * FROM stations WHERE name LIKE \'%沈塘桥%\'\n', [{ question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" }]],
    ['no approved column leaves approved unset', 'question,sql\nq1,SELECT 1\nq2,SELECT 2', [{ question: 'q1', sql: 'SELECT 1' }, { question: 'q2', sql: 'SELECT 2' }]],
    [
      'approved true/false/1/0/yes/no in any case, and empty means unset',
      'question,sql,approved\nq1,S1,true\nq2,S2,false\nq3,S3,1\nq4,S4,0\nq5,S5,YES\nq6,S6, No \nq7,S7,\nq8,S8\n',
      [
        { question: 'q1', sql: 'S1', approved: true },
        { question: 'q2', sql: 'S2', approved: false },
        { question: 'q3', sql: 'S3', approved: true },
        { question: 'q4', sql: 'S4', approved: false },
        { question: 'q5', sql: 'S5', approved: true },
        { question: 'q6', sql: 'S6', approved: false },
        { question: 'q7', sql: 'S7' },
        { question: 'q8', sql: 'S8' },
      ],
    ],
    ['blank lines between rows', 'question,sql\n\nq1,S1\n\n\nq2,S2\n\n', [{ question: 'q1', sql: 'S1' }, { question: 'q2', sql: 'S2' }]],
  ]
  for (const [what, text, pairs] of ok) {
    it(`reads ${what}`, () => {
      expect(parseExamplesCsv(text)).toEqual({ ok: true, pairs })
    })
  }

  it(`reads exactly ${MAX_IMPORT_ROWS} rows`, () => {
    const text = 'question,sql\n' + Array.from({ length: MAX_IMPORT_ROWS }, (_, i) => `q${i},SELECT ${i}`).join('\n')
    const result = parseExamplesCsv(text)
    expect(result.ok && result.pairs.length).toBe(MAX_IMPORT_ROWS)
    expect(result.ok && result.pairs.at(-1)).toEqual({ question: `q${MAX_IMPORT_ROWS - 1}`, sql: `SELECT ${MAX_IMPORT_ROWS - 1}` })
  })

  const bad: [string, string, RegExp][] = [
    ['empty text', '', /the CSV is empty/],
    ['only blank lines', '\n\n', /the CSV is empty/],
    ['a header without a question column', 'q,sql\nx,SELECT 1\n', /must name the columns "question" and "sql"/],
    ['a header without a sql column', 'question,query\nx,SELECT 1\n', /must name the columns "question" and "sql"/],
    ['a header only', 'question,sql\n', /has a header but no rows/],
    ['a header only, no newline', 'question,sql', /has a header but no rows/],
    ['an invalid approved value, with its row number', 'question,sql,approved\nq1,S1,true\nq2,S2,maybe\n', /^row 3: "approved" must be true or false$/],
    ['an empty question', 'question,sql\nq1,S1\n ,S2\n', /^row 3: question must not be empty$/],
    ['a missing question field (short row)', 'sql,question\nSELECT 1\n', /^row 2: question must not be empty$/],
    ['an empty sql', 'question,sql\nq1,""\n', /^row 2: sql must not be empty$/],
    ['an unterminated quote, with the line where it opened', 'question,sql\nq1,S1\nq2,"SELECT\n1\nq3,S3\n', /^line 3: a quoted field is not closed$/],
    ['a quote inside an unquoted field', 'question,sql\nq1,SELECT "x"\n', /^line 2: a quote inside an unquoted field$/],
    ['more rows than an import may hold', 'question,sql\n' + 'q,S\n'.repeat(MAX_IMPORT_ROWS + 1), new RegExp(`^at most ${MAX_IMPORT_ROWS} rows per import$`)],
  ]
  for (const [what, text, message] of bad) {
    it(`refuses ${what}`, () => {
      const result = parseExamplesCsv(text)
      expect(result.ok).toBe(false)
      expect(!result.ok && result.error).toMatch(message)
    })
  }

  it('counts rows by CSV record, not by physical line, in row numbers', () => {
    // Row numbers are records (header = row 1); a quoted newline does not shift them.
    const result = parseExamplesCsv('question,sql,approved\nq1,"SELECT\n1",yes\nq2,S2,perhaps\n')
    expect(result).toEqual({ ok: false, error: 'row 3: "approved" must be true or false' })
  })
})

describe('parseExamplesJson accepts {examples:[…]} or a bare array', () => {
  const pair = { question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" }
  const ok: [string, unknown, unknown[]][] = [
    ['an {examples} object', { examples: [pair] }, [pair]],
    ['a bare array', [pair, { ...pair, question: 'q2', approved: false }], [pair, { ...pair, question: 'q2', approved: false }]],
    ['approved true', [{ ...pair, approved: true }], [{ ...pair, approved: true }]],
    ['padded strings, trimmed', [{ question: '  q  ', sql: '\nSELECT 1\n' }], [{ question: 'q', sql: 'SELECT 1' }]],
    ['unknown keys, dropped', [{ ...pair, comment: 'x' }], [pair]],
  ]
  for (const [what, value, pairs] of ok) {
    it(`reads ${what}`, () => {
      expect(parseExamplesJson(value)).toEqual({ ok: true, pairs })
    })
  }

  const bad: [string, unknown, RegExp][] = [
    ['an empty array', [], /^\(root\): .*>=1/],
    ['an empty examples list', { examples: [] }, /^examples: .*>=1/],
    ['an object without examples', { pairs: [pair] }, /^examples: /],
    ['an empty question', [{ question: '  ', sql: 'SELECT 1' }], /^0\.question: question must not be empty$/],
    ['an empty sql', { examples: [{ question: 'q', sql: '' }] }, /^examples\.0\.sql: sql must not be empty$/],
    ['a missing sql', [pair, { question: 'q' }], /^1\.sql: /],
    ['approved as a string', [{ ...pair, approved: 'yes' }], /^0\.approved: /],
    ['a string', 'question,sql', /^\(root\): send \{"examples"/],
    ['null', null, /^\(root\): send \{"examples"/],
    ['too many rows in a bare array', Array.from({ length: MAX_IMPORT_ROWS + 1 }, () => pair), new RegExp(`^\\(root\\): .*<=${MAX_IMPORT_ROWS}`)],
    ['too many rows in {examples}', { examples: Array.from({ length: MAX_IMPORT_ROWS + 1 }, () => pair) }, new RegExp(`^examples: .*<=${MAX_IMPORT_ROWS}`)],
  ]
  for (const [what, value, message] of bad) {
    it(`refuses ${what}`, () => {
      const result = parseExamplesJson(value)
      expect(result.ok).toBe(false)
      expect(!result.ok && result.error).toMatch(message)
    })
  }

  it('names the path of the first bad pair', () => {
    const result = parseExamplesJson({ examples: [pair, { question: '', sql: 'SELECT 1' }] })
    expect(result).toEqual({ ok: false, error: 'examples.1.question: question must not be empty' })
  })
})
