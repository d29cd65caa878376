// `--history FILE`: the conversation so far, as the API's `history` (a JSON array of
// {role: "user"|"assistant", content}). A missing file is a new conversation; each answered
// question appends its two turns.
import { readFile, writeFile, rename } from 'node:fs/promises'
import { UsageError } from './parse-args.mjs'

/**
 * The service accepts at most MAX_HISTORY_TURNS (10 by default) turns: the most recent ones
 * are sent, whole question/answer pairs.
 */
export const HISTORY_TURNS_SENT = 10

/** @returns {Promise<{ role: 'user' | 'assistant', content: string }[]>} */
export async function readHistory(path) {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw new UsageError(`cannot read --history ${path}: ${err.message}`)
  }
  if (text.trim() === '') return []
  let turns
  try {
    turns = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--history ${path} is not JSON: ${err.message}`)
  }
  const valid = Array.isArray(turns) && turns.every((t) => t && (t.role === 'user' || t.role === 'assistant') && typeof t.content === 'string')
  if (!valid) throw new UsageError(`--history ${path} must be a JSON array of {"role": "user"|"assistant", "content": "…"}`)
  return turns
}

/** The turns to send: the latest ones, starting with a question. */
export function recentTurns(turns, max = HISTORY_TURNS_SENT) {
  let recent = turns.slice(-max)
  while (recent.length > 0 && recent[0].role !== 'user') recent = recent.slice(1)
  return recent
}

/** Appends one question and its answer; written whole to a temporary file, then renamed. */
export async function appendTurn(path, turns, question, answer) {
  const next = [...turns, { role: 'user', content: question }, { role: 'assistant', content: answer }]
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(next, null, 2) + '\n')
  await rename(tmp, path)
}
