import type { ChatMessage } from '../dashscope/build-request'
import { cleanDataName, cleanDataValue, DATA_RULE_EN, DATA_RULE_ZH, dataSection } from './data-section'

export type SummaryInput = {
  question: string
  sql: string
  columns: { name: string; type: string }[]
  rows: unknown[][]
  /** The run was cut at SQL_MAX_ROWS / SQL_MAX_RESULT_BYTES: the count is a floor. */
  truncated: boolean
  /** At most this many rows go into the prompt (SUMMARY_SAMPLE_ROWS); never the whole result. */
  sampleRows: number
}

/** A cell longer than this is cut in the prompt: the summary quotes values, it does not need essays. */
const MAX_CELL_CHARS = 80
/** The model's SQL, shown for context; it may quote values, so it is data too. */
const MAX_SQL_CHARS = 4000

/** Marks the prompt as a summary request (the fake DashScope answers it with a summary). */
export const SUMMARY_MARKER = '【查询结果】'

/**
 * The messages for the summary call: a short answer to the question in its own language, from the
 * row count, the columns and a bounded sample of the rows. The model is told to quote numbers
 * from the rows and to invent none, and whether it sees all rows or only the first ones. Pure.
 */
export function buildSummaryPrompt(input: SummaryInput): ChatMessage[] {
  const zh = /[\u3400-\u9fff]/u.test(input.question)
  const sample = input.rows.slice(0, input.sampleRows)
  const count = input.truncated ? (zh ? `至少 ${input.rows.length} 行（结果被截断）` : `at least ${input.rows.length} rows (the result was cut)`) : zh ? `${input.rows.length} 行` : `${input.rows.length} rows`
  const partial = sample.length < input.rows.length
  const seen = partial ? (zh ? `下面是前 ${sample.length} 行（不是全部）：` : `The first ${sample.length} rows (not all of them):`) : zh ? '下面是全部行：' : 'All the rows:'
  // Column names and rows are the database's text: cleaned, bounded, inside a data section.
  const table = [input.columns.map((c) => `${cleanDataName(c.name)} (${cleanDataName(c.type)})`).join(' | '), ...sample.map((row) => row.map(cell).join(' | '))].join('\n')
  const system = zh
    ? `你是数据分析师：依据数据库刚返回的查询结果，用中文一到三句话直接回答业务人员的问题。
- 数字和名称只原样引用结果中出现的，不编造、估算或推算；
- 只看到部分行时，不对未看到的行下结论（如“总共”“最高”，除非已按该条件排序且看到了第一行）；
- 不复述 SQL，不用代码块或表格；
${DATA_RULE_ZH}`
    : `You are a data analyst. Answer the business user's question directly, in one to three sentences, in the language of the question, from the query result the database just returned.
Rules:
- Quote only numbers and names that appear in the rows, exactly as written; never invent, estimate or compute values that are not there;
- If you see only some rows, draw no conclusion about the rows you do not see;
- Do not repeat the SQL; no code blocks, no tables;
${DATA_RULE_EN.slice(2)}`
  const sql = cleanDataValue(input.sql, MAX_SQL_CHARS, true)
  // One data section holds the SQL and the rows (and our own count line between them).
  const user = zh
    ? `问题：${input.question}\n\n${dataSection('', `SQL：\n${sql}\n\n${SUMMARY_MARKER}共 ${count}。${seen}\n${table}`)}`
    : `Question: ${input.question}\n\n${dataSection('', `SQL:\n${sql}\n\n${SUMMARY_MARKER} ${count}. ${seen}\n${table}`, false)}`
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ]
}

function cell(value: unknown): string {
  const text = value === null ? 'NULL' : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return cleanDataValue(text, MAX_CELL_CHARS)
}
