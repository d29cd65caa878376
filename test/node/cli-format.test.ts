import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { cellText, formatTable, truncateToWidth } from '../../tools/cli/format-table.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { highlightSql } from '../../tools/cli/highlight-sql.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { parseCliArgs } from '../../tools/cli/parse-args.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { createRenderer, pointAt } from '../../tools/cli/render-answer.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { recentTurns } from '../../tools/cli/conversation-history.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { createStyle, wantsColor } from '../../tools/cli/style.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { cleanLine, cleanStrings, cleanText, stringifyForTerminal } from '../../tools/cli/clean-terminal.mjs'

const plain = createStyle(false)
// Marks instead of escape codes, so the expectations read.
const marked = Object.fromEntries(['bold', 'dim', 'italic', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'gray'].map((n) => [n, (t: string) => `<${n}>${t}</${n}>`]))

describe('formatTable', () => {
  it('aligns CJK cells by display width, numbers to the right, NULL as NULL', () => {
    const table = formatTable(
      [{ name: 'name', type: 'character varying' }, { name: 'line', type: 'integer' }, { name: 'district', type: 'text' }],
      [['沈塘桥', 2, '拱墅区'], ['武林广场', 10, null], ['A', 1, 'x']],
      plain,
    )
    expect(table).toBe(
      [
        'name     │ line │ district',
        '─────────┼──────┼─────────',
        '沈塘桥   │    2 │ 拱墅区  ',
        '武林广场 │   10 │ NULL    ',
        'A        │    1 │ x       ',
      ].join('\n'),
    )
  })

  it('right-aligns untyped columns that hold only numbers', () => {
    expect(formatTable([{ name: 'n' }, { name: 's' }], [[5, 'a'], [123, 'b']], plain).split('\n').slice(2)).toEqual(['  5 │ a', '123 │ b'])
  })

  it('cuts long cells at the width, counting display columns, and says so with …', () => {
    expect(truncateToWidth('沈塘桥地铁站', 7)).toBe('沈塘桥…')
    expect(truncateToWidth('abcdefgh', 5)).toBe('abcd…')
    expect(truncateToWidth('abc', 5)).toBe('abc')
  })

  it.each([
    [null, 'NULL'],
    [true, 'true'],
    [{ a: 1 }, '{"a":1}'],
    ['two\nlines\tand tab\r', 'two\\nlines\\tand tab\\r'],
    ['\x1b[2J', '\\x1b[2J'],
    [{ note: '\x1b]0;t\x07' }, '{"note":"\\u001b]0;t\\u0007"}'],
    ['123.45', '123.45'],
  ])('shows %j as %j', (value, text) => {
    expect(cellText(value)).toBe(text)
  })
})

describe('highlightSql', () => {
  it('colours keywords, functions, strings, numbers, comments and quoted names, and keeps the text', () => {
    const sql = `SELECT count(*) AS n, "名称" -- 注释\nFROM stations WHERE name LIKE '%沈塘桥%' AND id > 10`
    expect(highlightSql(sql, marked)).toBe(
      `<bold><blue>SELECT</blue></bold> <yellow>count</yellow>(*) <bold><blue>AS</blue></bold> n, <cyan>"名称"</cyan> <gray>-- 注释</gray>\n<bold><blue>FROM</blue></bold> stations <bold><blue>WHERE</blue></bold> name <bold><blue>LIKE</blue></bold> <green>'%沈塘桥%'</green> <bold><blue>AND</blue></bold> id > <magenta>10</magenta>`,
    )
    expect(highlightSql(sql, plain)).toBe(sql)
  })

  it('survives unterminated strings and comments', () => {
    expect(highlightSql("SELECT 'oops", plain)).toBe("SELECT 'oops")
    expect(highlightSql('SELECT 1 /* open', marked)).toBe('<bold><blue>SELECT</blue></bold> <magenta>1</magenta> <gray>/* open</gray>')
  })
})

describe('parseCliArgs', () => {
  it('takes the question, flags and the environment', () => {
    const args = parseCliArgs(['ask', '-x', '--json', '--history', 'h.json', '沈塘桥', '地铁站'], { TXT2SQL_URL: 'http://svc:9000/base', TXT2SQL_API_KEY: 'k' })
    expect(args).toMatchObject({ command: 'ask', question: '沈塘桥 地铁站', key: 'k', execute: true, json: true, history: 'h.json' })
    expect(args.url.href).toBe('http://svc:9000/base')
  })

  it('lets flags win over the environment and defaults to 127.0.0.1:8787', () => {
    expect(parseCliArgs(['ask', '--url', 'http://a:1', '--key', 'x', 'q'], { TXT2SQL_URL: 'http://b:2', TXT2SQL_API_KEY: 'y' })).toMatchObject({ key: 'x', url: new URL('http://a:1') })
    expect(parseCliArgs(['ask', 'q'], {}).url.href).toBe('http://127.0.0.1:8787/')
  })

  it('takes a token (--token, TXT2SQL_TOKEN) as the bearer; a flag wins over the environment, a token over a key', () => {
    expect(parseCliArgs(['ask', '--token', 'jwt.a.b', 'q'], { TXT2SQL_API_KEY: 'k' })).toMatchObject({ token: 'jwt.a.b', key: undefined })
    expect(parseCliArgs(['ask', 'q'], { TXT2SQL_TOKEN: 'jwt.env', TXT2SQL_API_KEY: 'k' })).toMatchObject({ token: 'jwt.env', key: 'k' })
    expect(parseCliArgs(['ask', '--key', 'x', 'q'], { TXT2SQL_TOKEN: 'jwt.env' })).toMatchObject({ key: 'x', token: undefined })
  })

  it.each([
    [['ask', '--token', '', 'q'], '--token is empty'],
    [['ask', '--key', 'k', '--token', 't', 'q'], '--key and --token are both the bearer'],
    [['ask', '--key', '', 'q'], '--key is empty'],
    [['ask', '--history', '', 'q'], '--history needs a file name'],
    [['ask', '   '], 'no question'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv, {})).toThrow(message)
  })
})

describe('pointAt', () => {
  it('puts the caret under the character Postgres named when control characters come before it (shown as escapes)', () => {
    // nme is character 17 of the SQL; on the screen it stands after 19 columns ("\x1b" is 4 wide).
    expect(pointAt("SELECT '\x1b[2J' + nme", 17)).toBe(`SELECT '\\x1b[2J' + nme\n${' '.repeat(19)}^`)
  })

  it('puts the caret under the character Postgres named, counting display columns', () => {
    expect(pointAt('SELECT nme FROM stations', 8)).toBe('SELECT nme FROM stations\n       ^')
    expect(pointAt("SELECT *\nFROM 站点 WHERE nme = '桥'", 24)).toBe("FROM 站点 WHERE nme = '桥'\n                ^")
  })
})

describe('recentTurns', () => {
  it('sends the latest turns, starting with a question', () => {
    const turns = Array.from({ length: 14 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: String(i) }))
    expect(recentTurns(turns).map((t: { content: string }) => t.content)).toEqual(['4', '5', '6', '7', '8', '9', '10', '11', '12', '13'])
    expect(recentTurns(turns, 9).map((t: { content: string }) => t.content)).toEqual(['6', '7', '8', '9', '10', '11', '12', '13'])
  })
})

describe('wantsColor', () => {
  const tty = { isTTY: true, hasColors: () => true }
  it.each([
    [tty, undefined, {}, true],
    [tty, undefined, { NO_COLOR: '1' }, false],
    [{ isTTY: false }, undefined, {}, false],
    [{ isTTY: true, hasColors: () => false }, undefined, {}, false],
    [tty, false, {}, false],
    [{ isTTY: false }, true, { NO_COLOR: '1' }, true],
  ])('%j, forced %j, env %j → %j', (stream, forced, env, expected) => {
    expect(wantsColor(stream, forced, env)).toBe(expected)
  })
})

describe('the answer as the terminal shows it', () => {
  const render = (events: { event: string; data: unknown }[]) => {
    let out = ''
    const renderer = createRenderer({ write: (t: string) => (out += t), writeError: (t: string) => (out += t), style: plain, errorStyle: plain })
    for (const e of events) renderer.render(e)
    return out
  }

  it('names the tables the model was given, and says none were when linking declined the question', () => {
    expect(render([{ event: 'meta', data: { model: 'qwen-plus', schema_version: 'pg-1', tables: ['stations', 'lines'] } }])).toBe('qwen-plus · schema pg-1 · tables: stations, lines\n')
    const declined = render([
      { event: 'meta', data: { model: 'qwen-plus', schema_version: 'pg-1', tables: [] } },
      { event: 'unanswerable', data: { reason: '无法回答：数据库中没有与问题相关的表或字段。', closest_tables: [], source: 'linking' } },
    ])
    expect(declined.split('\n')[0]).toBe('qwen-plus · schema pg-1 · no tables')
  })
  it('says what the answer was built from, and marks a verified answer and a cached one', () => {
    const base = { model: 'qwen-plus', schema_version: 'pg-1', tables: ['stations'] }
    const built = render([{ event: 'meta', data: { ...base, examples: [{ id: '12', similarity: 0.8 }], glossary: ['客流'] } }])
    expect(built.split('\n')[1]).toBe('based on examples #12 (0.8) · terms 客流')
    const verified = render([{ event: 'meta', data: { ...base, verified: { example_id: '12', approved_at: '2026-12-01T00:00:00.000Z', substituted: { column: 'stations.name', from: '沈塘桥', to: '武林广场' } } } }])
    expect(verified.split('\n')[1]).toBe('✓ 已验证 / Verified: approved example #12, 沈塘桥 → 武林广场 (stations.name), no model call')
    const cached = render([{ event: 'meta', data: { ...base, cached: { at: '2026-12-01T00:00:00.000Z', request_id: 'r1' } } }])
    expect(cached.split('\n')[1]).toMatch(/^cached answer of 2026-12-01T00:00:00.000Z \(request r1\)/)
    const fallback = render([{ event: 'meta', data: { ...base, verified_fallback: { example_id: '12', error: 'permission denied for table stations' } } }])
    expect(fallback.split('\n')[1]).toBe('approved example #12 failed its check now (permission denied for table stations): the model answers')
  })
})

describe('the result of --execute', () => {
  const render = (events: { event: string; data: unknown }[]) => {
    let out = ''
    const renderer = createRenderer({ write: (t: string) => (out += t), writeError: (t: string) => (out += t), style: plain, errorStyle: plain })
    for (const e of events) renderer.render(e)
    return out.trim()
  }

  it('says why nothing ran, and tells a failed run apart', () => {
    expect(render([{ event: 'result', data: { ok: false, code: 'check_failed', error: 'not run: the check refused the SQL: column "nom" does not exist' } }])).toBe('✗ not run: the check refused the SQL: column "nom" does not exist')
    expect(render([{ event: 'result', data: { ok: false, code: 'query_failed', error: 'the statement timed out', pg_code: '57014' } }])).toBe('✗ the query failed: the statement timed out (SQLSTATE 57014)')
  })
})

// What a terminal would obey, one of each kind: OSC 52 (clipboard), OSC 2 (title), CSI 2J (clear),
// cursor up + erase line + a forged green line, a one-byte C1 CSI, a bidi override and an isolate.
const HOSTILE = ['\x1b]52;c;ZWNobyBQV05FRA==\x07', '\x1b]2;owned\x1b\\', '\x1b[2J', '\x1b[1A\x1b[2K\x1b[32m✓ harmless\x1b[0m', '\x9b31m', 'a\u202eb\u2066c\u2069', 'x\ry\x7f\x00']
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

describe('the terminal output filter', () => {
  it('shows every control character as an escape, keeping line feeds in prose only', () => {
    expect(cleanText('\x1b[2J\x07\r\t\x7f\x9b\u202e\u2066\u200f\u061c\n中文 ok')).toBe('\\x1b[2J\\x07\\r\\t\\x7f\\x9b\\u202e\\u2066\\u200f\\u061c\n中文 ok')
    expect(cleanLine('a\nb')).toBe('a\\nb')
    for (const text of HOSTILE) {
      expect(cleanText(text)).not.toMatch(RAW)
      expect(cleanLine(text)).not.toMatch(RAW)
    }
  })

  it('cleans a string split anywhere the same as whole, and cleaned text stays as it is', () => {
    const whole = HOSTILE.join('\n')
    for (let cut = 0; cut <= whole.length; cut++) expect(cleanText(whole.slice(0, cut)) + cleanText(whole.slice(cut))).toBe(cleanText(whole))
    expect(cleanText(cleanText(whole))).toBe(cleanText(whole))
  })

  it('walks an event: strings at any depth and object keys, numbers and null kept', () => {
    expect(cleanStrings({ rows: [['\x1b[2J', 1, null]], columns: [{ name: 'a\x07' }], ['k\x1b']: true })).toEqual({ rows: [['\\x1b[2J', 1, null]], columns: [{ name: 'a\\x07' }], ['k\\x1b']: true })
  })

  it('--json lines escape DEL, C1 and bidi marks too, and still parse to the same value', () => {
    const value = { text: HOSTILE.join('') }
    const line = stringifyForTerminal(value)
    expect(line).not.toMatch(RAW)
    expect(JSON.parse(line)).toEqual(value)
  })

  it('renders hostile text in every field of every event without one raw control character, table aligned', () => {
    const h = (i: number) => HOSTILE[i % HOSTILE.length]!
    let out = ''
    const renderer = createRenderer({ write: (t: string) => (out += t), writeError: (t: string) => (out += t), style: createStyle(true), errorStyle: createStyle(true) })
    const events = [
      { event: 'meta', data: { model: h(0), schema_version: h(1), tables: [h(2), h(3)] } },
      { event: 'reasoning', data: { text: h(4) } },
      { event: 'delta', data: { text: h(5) } },
      { event: 'repair', data: { error: h(6), position: 3 } },
      { event: 'unanswerable', data: { reason: h(0), closest_tables: [h(1)] } },
      { event: 'sql', data: { sql: `SELECT '${h(2)}'`, ok: false, error: h(3), pg_code: h(4), position: 2 } },
      { event: 'sql', data: { sql: 'SELECT 1', ok: true, checked: false, check_error: h(5) } },
      { event: 'rows', data: { columns: [{ name: h(6), type: 'text' }, { name: 'n\x1b[2J', type: 'text' }], rows: [[h(0), 'a\nb'], [h(3), h(5)]] } },
      { event: 'result', data: { ok: true, row_count: 2, elapsed_ms: 1 } },
      { event: 'result', data: { ok: false, code: 'query_failed', error: h(1), pg_code: h(2) } },
      { event: 'summary', data: { text: h(3) } },
      { event: 'error', data: { code: h(4), message: h(0) } },
      { event: 'done', data: { total_ms: 5, finish_reason: h(2) } },
    ]
    for (const e of events) renderer.render(e)
    // The style's own colours are the only escape sequences left: strip them, then no control remains.
    const text = out.replace(/\x1b\[[0-9;]*m/g, '')
    expect(text).not.toMatch(RAW)
    for (const shown of ['\\x1b]52;c;ZWNobyBQV05FRA==\\x07', '\\x1b]2;owned\\x1b\\', '\\x1b[2J', '\\x1b[1A\\x1b[2K\\x1b[32m✓ harmless', '\\x9b31m', 'a\\u202eb\\u2066c\\u2069', 'x\\ry\\x7f\\x00', 'a\\nb']) expect(text).toContain(shown)
    const table = text.split('\n').filter((l) => l.includes(' │ '))
    expect(table).toHaveLength(3)
    expect(new Set(table.map((l) => l.indexOf('│'))).size).toBe(1)
  })
})
