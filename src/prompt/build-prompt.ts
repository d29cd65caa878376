import type { ChatMessage } from '../dashscope/build-request'
import { linkIndexFor } from '../linking/index-cache'
import { selectExamples, type ScoredExample } from '../linking/select-examples'
import { linkTables } from '../linking/select-schema'
import { glossaryColumns, glossaryTables, matchGlossary, type GlossaryEntry } from '../schema/glossary'
import type { Example, Snapshot } from '../schema/snapshot-schema'
import { cleanDataValue, DATA_RULE_ZH, dataSection } from './data-section'
import { renderSchema } from './render-schema'

export type PromptInput = {
  question: string
  history?: { role: 'user' | 'assistant'; content: string }[] | undefined
  snapshot: Snapshot
  /** The examples to show; chosen from the snapshot's when absent. */
  examples?: Example[]
  /** Schema tokens above which tables are chosen for the question (SCHEMA_TOKEN_BUDGET). */
  schemaTokenBudget?: number
  /** When the schema is cut to the budget, tables wider than this show only the columns that matter (SCHEMA_WIDE_TABLE_COLUMNS; 0 = off). */
  wideTableColumns?: number
  /** At most this many examples (EXAMPLES_TOP_K) within this many tokens (EXAMPLES_TOKEN_BUDGET). */
  examplesTopK?: number
  examplesTokenBudget?: number
  /** The operator's hints about their data (PROMPT_HINTS), shown after the instructions; none when empty. */
  hints?: string
  /** An example held out of the prompt (eval). */
  skipExample?: string
}

export const DEFAULT_SCHEMA_TOKEN_BUDGET = 3000
export const DEFAULT_WIDE_TABLE_COLUMNS = 20
export const DEFAULT_EXAMPLES_TOP_K = 5
export const DEFAULT_EXAMPLES_TOKEN_BUDGET = 800
/** An example's question was typed by a caller (feedback): bounded like any data. */
const MAX_EXAMPLE_QUESTION_CHARS = 500
const MAX_EXAMPLE_SQL_CHARS = 4000

const INSTRUCTIONS = `你是一名精通 PostgreSQL 的数据分析师，负责把业务人员的问题转换成查询下面这个业务数据库的 SQL。
请按以下格式回答：
1. 先用一句话复述问题，以“您的问题是：”开头；
2. 然后写“思考过程：”，用几条简短的要点说明你如何理解问题、用到哪些表和字段、如何筛选与关联；
3. 最后只给出一个 sql 代码块，包含一条 PostgreSQL 查询语句。
要求：
- 只能使用下面数据库结构中列出的表和字段，注释说明了它们的业务含义；按名称等文本查找时优先使用模糊匹配（LIKE '%…%'）；
- 只写只读查询（SELECT 或 WITH … SELECT），绝不写任何修改数据或结构的语句；
- 如果根据这些表无法回答问题（数据库中没有所需的表或字段），不要猜测、不要给出 SQL，而是单独一行写“无法回答：”加上原因，例如：无法回答：数据库中没有员工工资的数据。`

// The snapshot object is cached per isolate (snapshot-store), so its rendering is too: an
// 881-table schema costs ~7 ms to render and the same string serves every request.
const rendered = new WeakMap<Snapshot, string>()

function renderedSchema(snapshot: Snapshot): string {
  let text = rendered.get(snapshot)
  if (text === undefined) rendered.set(snapshot, (text = renderSchema(snapshot)))
  return text
}

/**
 * The messages for DashScope: instructions, the schema and the examples in the system message,
 * the conversation so far, then the question. Pure: same input, same prompt.
 */
export function buildPrompt(input: PromptInput): { messages: ChatMessage[]; tables: string[]; glossary: string[]; examples: (Example & { similarity?: number })[] } {
  const { snapshot } = input
  const index = linkIndexFor(snapshot)
  const budget = input.schemaTokenBudget ?? DEFAULT_SCHEMA_TOKEN_BUDGET
  const whole = index.tokens.reduce((n, t) => n + t, 0)
  // The glossary terms this question uses (or an earlier turn of it: "那上周呢？" after a 客流
  // question) keep their tables and bring their definitions; the others cost nothing.
  const terms = matchGlossary(snapshot.glossary, conversationText(input))
  // A schema within the budget is sent whole (rendered once per snapshot); a bigger one is cut
  // to the tables this question needs.
  const history = (input.history ?? []).filter((turn) => turn.role === 'user').map((turn) => turn.content)
  const linked =
    whole <= budget
      ? undefined
      : linkTables(index, input.question, budget, {
          history,
          pinned: glossaryTables(terms, snapshot.tables),
          columns: { tables: snapshot.tables, wide: input.wideTableColumns ?? DEFAULT_WIDE_TABLE_COLUMNS },
          pinnedColumns: glossaryColumns(terms, snapshot.tables),
        })
  const chosen = linked ? linked.tables.map((i) => snapshot.tables[i]!) : snapshot.tables
  const shown = new Map([...(linked?.shown ?? [])].map(([t, columns]) => [snapshot.tables[t]!, columns]))
  const schemaText = linked ? renderSchema(snapshot, chosen, shown) : renderedSchema(snapshot)
  const examples: (Example | ScoredExample)[] =
    input.examples ??
    selectExamples(index, snapshot.examples, input.question, input.examplesTopK ?? DEFAULT_EXAMPLES_TOP_K, input.examplesTokenBudget ?? DEFAULT_EXAMPLES_TOKEN_BUDGET, input.skipExample)
  // The schema and the examples are the database's and callers' text: inside data sections
  // (src/prompt/data-section.ts); the glossary and the hints are the operator's, and instruct.
  const sections = [`${INSTRUCTIONS}\n${DATA_RULE_ZH}`]
  // Domain knowledge is the operator's (a setting), never the code's: the same code serves any database.
  if (input.hints?.trim()) sections.push(`补充说明（本服务的运营方提供）：\n${input.hints.trim()}`)
  sections.push(dataSection('数据库结构（PostgreSQL）', schemaText))
  if (terms.length > 0) sections.push(`业务术语（本公司的说法、对应的表和字段及计算口径；问题中出现这些说法时按此理解和计算）：\n${terms.map(renderTerm).join('\n')}`)
  if (examples.length > 0) {
    sections.push(dataSection('参考示例', examples.map((e) => `问题：${cleanDataValue(e.question, MAX_EXAMPLE_QUESTION_CHARS)}\nSQL：${cleanDataValue(e.sql, MAX_EXAMPLE_SQL_CHARS, true)}`).join('\n\n')))
  }
  const omitPublic = snapshot.tables.every((t) => t.schema === 'public')
  return {
    messages: [
      { role: 'system', content: sections.join('\n\n') },
      ...(input.history ?? []).map((turn) => ({ role: turn.role, content: turn.content })),
      { role: 'user', content: input.question },
    ],
    // Plain names for callers (meta event), not SQL-quoted ones.
    tables: chosen.map((t) => (omitPublic ? t.name : `${t.schema}.${t.name}`)),
    glossary: terms.map((t) => t.term),
    // What `meta` reports the answer was built from.
    examples,
  }
}

/** The question and the user's earlier turns: what a glossary term may appear in. */
export function conversationText(input: Pick<PromptInput, 'question' | 'history'>): string {
  return [...(input.history ?? []).filter((t) => t.role === 'user').map((t) => t.content), input.question].join('\n')
}

function renderTerm(e: GlossaryEntry): string {
  const aliases = e.aliases?.length ? `（又称${e.aliases.join('、')}）` : ''
  const refs = [...(e.tables ?? []), ...(e.columns ?? [])]
  return `- ${e.term}${aliases}：${e.definition.replace(/\s*\n\s*/g, ' ')}${refs.length ? `〔对应：${refs.join('、')}〕` : ''}`
}
