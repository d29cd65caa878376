// Deterministic Chinese answers in the old service's style: restate, reason briefly, one ```sql
// block. Produced lazily as token-sized pieces so a benchmark can ask for 100 MB without building it.

const CANNED = [
  {
    when: /客流|人次|进站|出站/,
    reasoning: '用户关心客流数据，需要按站点汇总日客流表。',
    bullets: ['问题关注的是客流量，对应 daily_ridership 表的 entries 与 exits 字段。', '需要通过 station_id 关联 stations 表得到站名。', '按站点汇总并按总客流降序排列。'],
    sql: 'SELECT s.name, SUM(r.entries + r.exits) AS total_passengers\nFROM daily_ridership r\nJOIN stations s ON s.id = r.station_id\nGROUP BY s.name\nORDER BY total_passengers DESC\nLIMIT 10;',
  },
  {
    when: /线路|几号线|号线|换乘/,
    reasoning: '用户询问线路与站点的关系，需要使用站点-线路关联表。',
    bullets: ['线路信息存放在 lines 表，站点与线路的对应关系在 station_lines 表。', '通过 station_lines 连接 stations 与 lines。', '按线路和站序输出。'],
    sql: "SELECT l.name AS line_name, s.name AS station_name, sl.seq\nFROM station_lines sl\nJOIN lines l ON l.id = sl.line_id\nJOIN stations s ON s.id = sl.station_id\nWHERE l.name = '1号线'\nORDER BY sl.seq;",
  },
  {
    when: /地铁站|站点|车站|站的|站/,
    reasoning: '用户想了解某个地铁站的信息，需要按站名模糊匹配。',
    bullets: ['用户想了解该地铁站的具体信息。', '关键点在于按站名模糊匹配到对应站点。', '站点的详细信息存放在 stations 表中，返回全部字段。'],
    sql: null, // filled from the question: the station's name
  },
]

const FALLBACK = {
  reasoning: '问题较为笼统，先查看站点的基础信息。',
  bullets: ['问题没有指明具体对象，先从站点表获取概况。', '限制返回行数，避免结果过大。'],
  sql: 'SELECT id, name, district, opened_on\nFROM stations\nORDER BY opened_on\nLIMIT 20;',
}

const FILLER = '为了回答这个问题，我们需要先理解业务数据库中各张表的含义，再确定筛选条件、关联方式和排序规则，最后给出一条只读的查询语句。'

/** @param {string} question */
function stationName(question) {
  const m = /([\u4e00-\u9fff]{2,6}?)(?:地铁站|站点|车站|站)/.exec(question)
  return m ? m[1] : '沈塘桥'
}

/**
 * @param {string} question the last user message
 * @param {{ tokens?: number, answer?: string, piece?: number }} opts
 * @returns {{ reasoning: string, text: () => Generator<string> }}
 */
export function composeAnswer(question, opts = {}) {
  const q = question.split('\n').filter(Boolean).at(-1)?.replace(/^问题[:：]\s*/, '') ?? question
  const size = opts.piece ?? 0
  if (opts.answer !== undefined) return { reasoning: '按照给定答案输出。', text: () => pieces([opts.answer], size) }
  if (isSummaryRequest(question)) return { reasoning: '根据查询结果回答问题。', text: () => pieces([summarize(question)], size) }
  const pick = CANNED.find((c) => c.when.test(q)) ?? FALLBACK
  const sql = pick.sql ?? `SELECT *\nFROM stations\nWHERE name LIKE '%${stationName(q)}%';`
  const head = `您的问题是：${q}\n\n思考过程：\n${pick.bullets.map((b) => `- ${b}`).join('\n')}\n`
  const tail = `\n\`\`\`sql\n${sql}\n\`\`\``
  const bodyTokens = Math.max(0, (opts.tokens ?? 0) - estimateTokens(head + tail))
  return {
    reasoning: `${pick.reasoning}我需要确认相关表和字段，然后写出 PostgreSQL 查询。`,
    text: () => pieces([head, filler(bodyTokens), tail], size),
  }
}

/** The service's summary request (src/prompt/build-summary-prompt.ts) carries this marker. */
const SUMMARY_MARKER = '【查询结果】'

/** @param {string} question the last user message */
export const isSummaryRequest = (question) => question.includes(SUMMARY_MARKER)

/**
 * The rows explained, the way a careful model would: the row count and the first row's values,
 * each quoted exactly as the prompt gives it — so a test can check that every number in the
 * summary is one of the rows'. Chinese for a Chinese question, English otherwise.
 */
function summarize(prompt) {
  const after = prompt.slice(prompt.indexOf(SUMMARY_MARKER) + SUMMARY_MARKER.length)
  // The rows sit inside a data section (src/prompt/data-section.ts): its bracket lines are not rows.
  const lines = after.split('\n').filter((l) => !l.startsWith('⟦'))
  const zh = /^问题[:：]/.test(prompt)
  const count = /(?:共\s*|^\s*)(?:至少\s*|at least\s*)?(\d+)\s*(?:行|rows)/.exec(lines[0] ?? '')?.[1] ?? '0'
  const header = (lines[1] ?? '').split(' | ').map((c) => c.replace(/\s*\([^)]*\)$/, ''))
  const first = (lines[2] ?? '').split(' | ')
  const pairs = header.map((name, i) => [name, first[i] ?? '']).filter(([name]) => name)
  if (zh) return `查询共返回 ${count} 行。第一行是：${pairs.map(([n, v]) => `${n} 为 ${v}`).join('，')}。`
  return `The query returned ${count} rows. The first is: ${pairs.map(([n, v]) => `${n} = ${v}`).join(', ')}.`
}

/** Roughly one token per 1.5 characters of Chinese: a deterministic stand-in for Qwen's tokenizer. */
export function estimateTokens(text) {
  return Math.ceil(text.length / 1.5)
}

function* filler(tokens) {
  let chars = Math.ceil(tokens * 1.5)
  while (chars > 0) {
    const take = Math.min(chars, FILLER.length)
    yield `- ${FILLER.slice(0, take)}\n`
    chars -= take
  }
}

/**
 * Splits text into token-like pieces of 1–4 characters (or exactly `size` when given, for
 * benchmarks that need bulk), without cutting surrogate pairs.
 */
function* pieces(parts, size = 0) {
  let k = 0
  for (const part of parts) {
    for (const chunk of typeof part === 'string' ? [part] : part) {
      const chars = Array.from(chunk)
      for (let i = 0; i < chars.length; ) {
        const n = size > 0 ? size : 1 + (k++ % 4)
        yield chars.slice(i, i + n).join('')
        i += n
      }
    }
  }
}

export function* reasoningPieces(text) {
  yield* pieces([text])
}
