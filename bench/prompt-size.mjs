// Prompt size for the same questions (eval/chinese-questions.json) over the demo metro snapshot:
// the question prompt (system message) and the summary prompt (for a result of ten rows made of
// the snapshot's sample values), in characters and estimated tokens. Run before and after a
// change to the prompts; BENCHMARKS.md ("Prompt size") keeps the figures.
//   node bench/prompt-size.mjs
import { readFileSync } from 'node:fs'
import { importSource } from './lib/bundle.mjs'

const { buildPrompt, buildSummaryPrompt, demoSnapshot, estimateTokens } = await importSource('bench/prompt-size-entry.ts')
const questions = JSON.parse(readFileSync(new URL('../eval/chinese-questions.json', import.meta.url), 'utf8')).map((q) => q.question)

const stations = demoSnapshot.tables.find((t) => t.name === 'stations')
const columns = stations.columns.map((c) => ({ name: c.name, type: c.type }))
const rows = Array.from({ length: 10 }, (_, i) => stations.columns.map((c) => c.samples?.[i % c.samples.length] ?? String(i)))

const total = { chars: 0, tokens: 0, summaryChars: 0, summaryTokens: 0 }
for (const question of questions) {
  const text = buildPrompt({ question, snapshot: demoSnapshot }).messages.map((m) => m.content).join('\n')
  total.chars += text.length
  total.tokens += estimateTokens(text)
  const summary = buildSummaryPrompt({ question, sql: 'SELECT * FROM stations LIMIT 10', columns, rows, truncated: false, sampleRows: 10 }).map((m) => m.content).join('\n')
  total.summaryChars += summary.length
  total.summaryTokens += estimateTokens(summary)
}
const n = questions.length
console.log(JSON.stringify({ questions: n, prompt: { chars: Math.round(total.chars / n), tokens: Math.round(total.tokens / n) }, summary: { chars: Math.round(total.summaryChars / n), tokens: Math.round(total.summaryTokens / n) } }))
