import { describe, expect, it } from 'vitest'
import { repairMessages } from '../src/answer/verify-answer'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { buildPrompt } from '../src/prompt/build-prompt'
import { extractSql, NO_SQL } from '../src/sql/extract-sql'
import { SqlTracker } from '../src/sql/sql-tracker'

const SEED_ANSWER = `您的问题是:沈塘桥地铁站的信息

思考过程:
- 用户想了解关于“沈塘桥地铁站”的具体信息。
- 关键点在于定位到名为“沈塘桥”的地铁站,这涉及到模糊匹配站名。
- 需要从dtzpt表中查询,因为该表存储了地铁站点的详细信息。
- 查询时,需确保返回所有字段信息,以便提供完整详情。

\`\`\`sql
SELECT * FROM dtzpt WHERE name LIKE '%沈塘桥%'\`\`\``

const cases: [string, string, string | null][] = [
  ["the seed's answer, fence closed on the SQL's line", SEED_ANSWER, "SELECT * FROM dtzpt WHERE name LIKE '%沈塘桥%'"],
  ['one sql block', '您的问题是：x\n\n```sql\nSELECT 1 FROM t;\n```', 'SELECT 1 FROM t'],
  ['the last of several sql blocks', '先看：\n```sql\nSELECT a FROM t\n```\n修正后：\n```sql\nSELECT b FROM t\n```\n', 'SELECT b FROM t'],
  ['SQL in capitals', '```SQL\nselect name from stations\n```', 'select name from stations'],
  ['a postgresql fence', '```postgresql\nSELECT now()\n```', 'SELECT now()'],
  ['a fence without a language', '答案：\n```\nSELECT id FROM lines\n```', 'SELECT id FROM lines'],
  ['a bare fence holding prose is not SQL', '```\n这是说明文字\n```', null],
  ['a python block is not SQL', '```python\nprint(1)\n```', null],
  ['a later sql block wins over an earlier bare one', '```\nSELECT 1 FROM a\n```\n```sql\nSELECT 2 FROM b\n```', 'SELECT 2 FROM b'],
  ['a sql block wins over a later python block', '```sql\nSELECT 2 FROM b\n```\n```python\nx = 1\n```', 'SELECT 2 FROM b'],
  ['trailing semicolons and spaces', '```sql\nSELECT 1 FROM t ;  \n\n```', 'SELECT 1 FROM t'],
  ['a Chinese full stop after the SQL', '```sql\nSELECT 1 FROM t；\n```。', 'SELECT 1 FROM t'],
  ['CRLF line endings', '您的问题是：x\r\n```sql\r\nSELECT a\r\nFROM t\r\n```\r\n', 'SELECT a\nFROM t'],
  ['a multi-line query keeps its lines', '```sql\nSELECT s.name,\n       l.name\nFROM stations s\nJOIN lines l ON l.id = s.line_id\n```', 'SELECT s.name,\n       l.name\nFROM stations s\nJOIN lines l ON l.id = s.line_id'],
  ['a WITH query', '```sql\nWITH t AS (SELECT 1 AS x)\nSELECT x FROM t\n```', 'WITH t AS (SELECT 1 AS x)\nSELECT x FROM t'],
  ['a truncated answer without the closing fence', '思考过程：…\n```sql\nSELECT * FROM stations WHERE name LIKE', 'SELECT * FROM stations WHERE name LIKE'],
  ['a fence indented in a list', '- 查询：\n  ```sql\n  SELECT 1 FROM t\n  ```', 'SELECT 1 FROM t'],
  ['four backticks', '````sql\nSELECT 1 FROM t\n````', 'SELECT 1 FROM t'],
  ['a one-line fenced block', '```sql SELECT name FROM lines```', 'SELECT name FROM lines'],
  ['a tilde fence', '~~~sql\nSELECT 1 FROM t\n~~~', 'SELECT 1 FROM t'],
  ['an unfenced statement after a Chinese colon', '对应的SQL：SELECT name FROM stations WHERE is_transfer;', 'SELECT name FROM stations WHERE is_transfer'],
  ['an unfenced statement on its own lines', '思考过程：\n- 查站点表\n\nSELECT *\nFROM stations\nWHERE district = \'西湖区\'\n\n以上。', "SELECT *\nFROM stations\nWHERE district = '西湖区'"],
  ['the last of several unfenced statements', 'SELECT 1 FROM a;\n然后\nSELECT 2 FROM b;', 'SELECT 2 FROM b'],
  ['SQL in the reasoning only: the answer proper has none', '无法回答：数据库中没有天气数据。', null],
  ['a refusal in Chinese', '无法回答该问题，数据库中没有相关信息。', null],
  ['an empty answer', '', null],
  ['an empty sql block', '```sql\n```', null],
  ['prose beginning with "With"', 'With this schema we cannot know the weather.', null],
  ['prose with the word select', 'select 语句需要更多信息', null],
  ['an English answer', 'Your question: stations on line 1.\n\nReasoning:\n- join\n\n```sql\nSELECT s.name FROM stations s\n```', 'SELECT s.name FROM stations s'],
  ['an explanation after the block', '```sql\nSELECT name FROM lines\n```\n\n说明：该查询返回所有线路名称。', 'SELECT name FROM lines'],
  ['Chinese corner quotes around the block', '「\n```sql\nSELECT 1 FROM t\n```\n」', 'SELECT 1 FROM t'],
  ['SQL comments inside the block are kept', '```sql\n-- 按站名模糊匹配\nSELECT * FROM stations WHERE name LIKE \'%沈塘桥%\'\n```', "-- 按站名模糊匹配\nSELECT * FROM stations WHERE name LIKE '%沈塘桥%'"],
  ['an unfenced statement ending in a Chinese full stop', '查询如下：SELECT count(*) FROM stations。', 'SELECT count(*) FROM stations'],
  ['a draft and a corrected block, caps fence last', '初稿：\n```sql\nSELECT nme FROM stations\n```\n更正：\n```SQL\nSELECT name FROM stations\n```', 'SELECT name FROM stations'],
  ['a one-line fence after prose', '最终SQL如下：```sql SELECT name FROM stations WHERE is_transfer ```。', 'SELECT name FROM stations WHERE is_transfer'],
  ['a fence opened after prose, SQL on the next lines', '最终SQL如下：```sql\nSELECT name\nFROM stations\n```', 'SELECT name\nFROM stations'],
  ['a fence inside a string literal', "```sql\nSELECT '```' AS x\n```", "SELECT '```' AS x"],
  ['a fence inside a string literal on one line', "```sql SELECT '```' AS x ```", "SELECT '```' AS x"],
  ['a fence inside a quoted identifier and a doubled quote', '```sql\nSELECT \'it\'\'s ```\' AS "a```b" FROM t\n```', 'SELECT \'it\'\'s ```\' AS "a```b" FROM t'],
  ['a string literal over two lines with a fence in it', "```sql\nSELECT 'a\n```' AS x\n```", "SELECT 'a\n```' AS x"],
  ['a fence inside a dollar-quoted string and a block comment', "```sql\nSELECT $q$```$q$ /* ``` */ AS x\n```", 'SELECT $q$```$q$ /* ``` */ AS x'],
  ['a fence at the end of a comment line closes the block', "```sql\nSELECT 1 FROM t -- done```", 'SELECT 1 FROM t -- done'],
  ["an unbalanced apostrophe in the SQL still lets the fence close", "```sql\nSELECT name FROM stations WHERE name = 'Xi'an\n```\n说明：it's done", "SELECT name FROM stations WHERE name = 'Xi'an"],
  ['a refusal that mentions SQL without writing any', '抱歉，这个问题无法用 SQL 回答：数据库中没有天气数据。', null],
]

describe('extracting the final SQL from an answer', () => {
  it.each(cases)('%s', (_name, answer, expected) => {
    const result = extractSql(answer)
    if (expected === null) expect(result).toEqual({ ok: false, error: NO_SQL })
    else expect(result).toEqual({ ok: true, sql: expected })
  })

  it('copes with a megabyte of backticks and SELECTs (a catastrophic regex would hit the test timeout)', () => {
    const hostile = '```'.repeat(100_000) + 'SELECT '.repeat(50_000) + '\n```sql\nSELECT 1 FROM t'
    expect(extractSql(hostile)).toEqual({ ok: true, sql: 'SELECT 1 FROM t' })
  })
})

// What a model answered on Chinook in the repair round (issue 34): it restated the instruction,
// which then held a fence mid-line, and the extractor took the prose after it as SQL.
const ECHOED_OLD_REPAIR = '您的问题是：PostgreSQL 检查这条 SQL 时报错。请找出原因并改正：先用一两句话说明，然后只给出一个改正后的 ```sql 代码块。\n\n思考过程：\n- 数据库中没有地铁站的表。'

const mentions: [string, string, string | null][] = [
  ['an answer restating the old repair instruction opens no block', ECHOED_OLD_REPAIR, null],
  ['the restated instruction, then the real block', ECHOED_OLD_REPAIR + '\n\n```sql\nSELECT name FROM artist\n```', 'SELECT name FROM artist'],
  ['a fence followed by prose on a line of its own opens no block', '```sql 代码块。\n思考过程：…', null],
  ['a fence mentioned in an English sentence', 'I will answer with a ```sql block as asked.\nSELECT is not possible here.', null],
  ['a mentioned fence before a fence that opens on the same line', '按要求用 ```sql 代码块： ```sql SELECT 1 FROM t```', 'SELECT 1 FROM t'],
  ['nested backticks: inline code holding a fence is prose', '用 `` ```sql `` 包住查询：\n```sql\nSELECT title FROM album\n```', 'SELECT title FROM album'],
  ['nested backticks: a four-backtick fence quoting a three-backtick one', '````\n```sql 代码块。\n````', null],
  ['a fence after prose followed by a comment is SQL', '最终SQL如下：```sql -- 按国家\nSELECT country FROM customer\n```', '-- 按国家\nSELECT country FROM customer'],
  ['a fence after prose followed by a parenthesis is SQL', '最终SQL如下：```sql (SELECT 1 FROM t)```', '(SELECT 1 FROM t)'],
]

describe('a fence mentioned in prose is not a block', () => {
  it.each(mentions)('%s', (_name, answer, expected) => {
    const result = extractSql(answer)
    if (expected === null) expect(result).toEqual({ ok: false, error: NO_SQL })
    else expect(result).toEqual({ ok: true, sql: expected })
  })

  it('the system and repair instructions hold no fence a model could echo', () => {
    const system = buildPrompt({ question: '有多少条记录？', snapshot: demoSnapshot }).messages[0]!.content
    const repair = repairMessages([], 'SELECT 1', { error: 'relation "x" does not exist' }).at(-1)!.content
    for (const text of [system, repair]) {
      expect(text).toContain('sql 代码块')
      expect(text).not.toMatch(/`{3}|~{3}/)
    }
  })

  it('an answer that quotes the system and repair instructions word for word yields no SQL', () => {
    const system = buildPrompt({ question: '有多少条记录？', snapshot: demoSnapshot }).messages[0]!.content
    const instructions = system.slice(0, system.indexOf('数据库结构'))
    const repair = repairMessages([], 'SELECT 1', { error: 'syntax error' }).at(-1)!.content
    expect(extractSql(`您的问题是：${instructions}`)).toEqual({ ok: false, error: NO_SQL })
    expect(extractSql(`您的问题是：${repair}\n\n思考过程：\n- 没有相关的表。`)).toEqual({ ok: false, error: NO_SQL })
  })
})

describe('the SQL tracker', () => {
  it('finds the SQL of an answer fed in small pieces', () => {
    const tracker = new SqlTracker()
    for (const ch of SEED_ANSWER) tracker.push(ch)
    expect(tracker.result()).toEqual({ ok: true, sql: "SELECT * FROM dtzpt WHERE name LIKE '%沈塘桥%'" })
  })

  it('takes the SQL from the reasoning only when the answer itself has none', () => {
    const onlyReasoning = new SqlTracker()
    onlyReasoning.pushReasoning('先查站点表：\n```sql\nSELECT * FROM stations WHERE name LIKE \'%沈塘桥%\'\n```')
    onlyReasoning.push('沈塘桥站的信息见上面的查询。')
    expect(onlyReasoning.result()).toEqual({ ok: true, sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" })
    const both = new SqlTracker()
    both.pushReasoning('```sql\nSELECT 1 FROM draft\n```')
    both.push('```sql\nSELECT 2 FROM final\n```')
    expect(both.result()).toEqual({ ok: true, sql: 'SELECT 2 FROM final' })
  })

  it('keeps a bounded tail of a 5 MB answer and still finds its SQL', () => {
    const tracker = new SqlTracker(64 * 1024)
    const filler = '为了回答这个问题需要先理解数据库。'.repeat(10)
    let fed = 0
    while (fed < 5_000_000) {
      tracker.push(filler)
      fed += filler.length
      expect((tracker as unknown as { tail: string }).tail.length).toBeLessThanOrEqual(2 * 64 * 1024 + filler.length)
    }
    tracker.push('\n```sql\nSELECT count(*) FROM stations\n```')
    expect(tracker.result()).toEqual({ ok: true, sql: 'SELECT count(*) FROM stations' })
  })
})
