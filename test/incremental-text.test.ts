import { describe, expect, it } from 'vitest'
import { CUMULATIVE_EVIDENCE, IncrementalText } from '../src/dashscope/incremental-text'

/** Feeds pieces, then ends the text: everything passed on, in order. */
function read(pieces: string[]): string {
  const t = new IncrementalText()
  return pieces.map((p) => t.next(p)).join('') + t.flush()
}

/** The pieces a model that ignores incremental_output would send for these increments. */
function cumulative(increments: string[]): string[] {
  let so = ''
  return increments.map((p) => (so += p))
}

/** A deterministic 1–4 character split, as Qwen writes its events. */
function qwenPieces(text: string, seed: number): string[] {
  const chars = [...text]
  const out: string[] = []
  let x = seed
  for (let i = 0; i < chars.length; ) {
    x = (x * 1103515245 + 12345) % 2147483648
    const n = 1 + (x % 4)
    out.push(chars.slice(i, i + n).join(''))
    i += n
  }
  return out
}

const answers = [
  '```sql\nSELECT * FROM stations WHERE name LIKE \'%沈塘桥%\';\n```',
  '好的，我来分析这个问题。\n\n```sql\nSELECT count(*) FROM stations;\n```',
  '您的问题是：沈塘桥地铁站的信息。\n\n```sql\nSELECT s.* FROM stations s WHERE s.name = \'沈塘桥\'\n```',
  '`stations` 表中有站点名称。\n```sql\nSELECT name FROM stations\n```',
  '  \n```sql\nSELECT 1\n```',
  '好好学习',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaa',
]

describe('incremental text from native events', () => {
  it.each([
    ['an answer starting with ```sql, first pieces "`" and "``sq"', ['`', '``sq', 'l\nSEL', 'ECT 1\n', '```']],
    ['"好" then "好的"', ['好', '好的', '，', '我来']],
    ['one-character pieces that repeat', ['a', 'a', 'a', 'a', 'a']],
    ['one-character pieces', ['好', '的', '，', '我', '来']],
    ['a whitespace first piece', [' ', ' \n', '```sql', '\nSELECT 1']],
    ['an empty first piece', ['', '`', '``sq', 'l']],
    ['three pieces each extending the one before', ['S', 'SE', 'SEL', 'ECT']],
    ['a piece equal to the one before', ['好', '好', '好的']],
  ])('passes incremental pieces on whole: %s', (_name, pieces) => {
    expect(read(pieces)).toBe(pieces.join(''))
  })

  it.each([
    ['"`" then "``sq"', ['`', '``', 'sq', 'l\n', 'SELECT 1\n', '```']],
    ['"好" then "好的"', ['好', '的', '，', '我', '来', '了']],
    ['one-character pieces', [...'您的问题是：沈塘桥']],
    ['a whitespace first piece', [' ', '\n', '```sql', '\nSELECT', ' 1']],
    ['pieces that repeat the whole text without new text', ['您的', '问题', '是', '：', '', '', '沈塘桥']],
  ])('recovers the text of a cumulative stream: %s', (_name, increments) => {
    expect(read(cumulative(increments))).toBe(increments.join(''))
  })

  it('passes the first piece on at once, and holds nothing back once an incremental stream broke the chain', () => {
    const t = new IncrementalText()
    expect(['`', '``sq', 'l\n', 'SELECT'].map((p) => t.next(p))).toEqual(['`', '', '``sql\n', 'SELECT'])
    expect(t.flush()).toBe('')
  })

  it(`decides cumulative after ${CUMULATIVE_EVIDENCE} pieces each repeating the one before, then passes only new text`, () => {
    const t = new IncrementalText()
    const out = cumulative(['您', '的', '问', '题', '是', '：']).map((p) => t.next(p))
    expect(out).toEqual(['您', '', '', '的问题', '是', '：'])
    expect(t.next('您的问题是：')).toBe('')
  })

  it('reads a stream that ends while still ambiguous as incremental, as we asked for', () => {
    expect(read(['好', '好的'])).toBe('好好的')
  })

  it('ignores empty pieces', () => {
    expect(read(['', 'a', '', 'b'])).toBe('ab')
  })

  it('keeps every character of real-looking answers split 1–4 characters at a time, in both modes', () => {
    for (const answer of answers) {
      for (let seed = 1; seed <= 200; seed++) {
        const pieces = qwenPieces(answer, seed)
        expect(read(pieces), `incremental, seed ${seed}`).toBe(answer)
        if (pieces.length >= CUMULATIVE_EVIDENCE) expect(read(cumulative(pieces)), `cumulative, seed ${seed}`).toBe(answer)
      }
    }
  })
})
