import type { LinkIndex } from '../linking/link-index'
import { valueKey } from '../linking/value-keys'
import type { Example, Snapshot } from '../schema/snapshot-schema'

/** An approved example that answers the question, with the SQL to run (a value swapped in, maybe). */
export type VerifiedMatch = {
  example: Example & { id: string }
  sql: string
  substituted?: { column: string; from: string; to: string }
}

/**
 * A question as verified answers compare it: full-width folded to half-width (NFKC), lower case,
 * no spaces or punctuation, and without a trailing 吗/呢 (the ？ went with the punctuation).
 */
export function normalizeQuestion(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, '')
    .replace(/[吗呢]+$/u, '')
}

/**
 * The approved example that answers this question verified, if one does (docs/API.md, "Verified
 * answers"): the same question after normalisation, or the same question about another value of
 * the same column — a value the example's question and SQL share (a literal `'沈塘桥'`, or a LIKE
 * pattern `'%沈塘桥%'`) and that the link index knows for a column, replaced by a value the index
 * knows for that same column, the rest of the question equal after normalisation. Only examples
 * with an id (from EXAMPLES_TABLE) answer verified. `skip`: an example held out (eval).
 */
export function matchVerified(snapshot: Pick<Snapshot, 'examples' | 'tables'>, index: LinkIndex, question: string, skip?: string): VerifiedMatch | null {
  const asked = normalizeQuestion(question)
  if (!asked) return null
  const examples = snapshot.examples.filter((e): e is Example & { id: string } => typeof e.id === 'string' && e.id !== skip)
  for (const example of examples) if (normalizeQuestion(example.question) === asked) return { example, sql: example.sql }
  for (const example of examples) {
    const swapped = swapValue(snapshot, index, example, asked)
    if (swapped) return swapped
  }
  return null
}

/** A standard string literal (no E'' escapes), its quotes doubled inside. */
const LITERAL = /(?<![\w$])'((?:[^']|'')*)'/g

function swapValue(snapshot: Pick<Snapshot, 'tables'>, index: LinkIndex, example: Example & { id: string }, asked: string): VerifiedMatch | null {
  for (const m of example.sql.matchAll(LITERAL)) {
    const literal = m[0]
    const inside = m[1]!.replace(/''/g, "'")
    // A LIKE pattern: wildcards only at its ends; a value with its own wildcards is not swapped.
    const lead = /^%*/.exec(inside)![0]
    const trail = /%*$/.exec(inside.slice(lead.length))![0]
    const from = inside.slice(lead.length, inside.length - trail.length)
    const pattern = lead.length > 0 || trail.length > 0
    if (!from || (pattern && /[%_\\]/.test(from))) continue
    const fromKey = valueKey(from)
    const fromColumns = fromKey === null ? undefined : index.values[fromKey]
    if (!fromColumns?.length) continue
    const at = example.question.indexOf(from)
    if (at < 0) continue
    const before = normalizeQuestion(example.question.slice(0, at))
    // The part after the value keeps its trailing 吗/呢 rule: normalised as the end of a question.
    const after = normalizeQuestion(example.question.slice(at + from.length))
    if (!asked.startsWith(before) || !asked.endsWith(after) || asked.length <= before.length + after.length) continue
    const toText = asked.slice(before.length, asked.length - after.length)
    const toKey = valueKey(toText)
    if (toKey === null || toKey === fromKey) continue
    const toColumns = index.values[toKey] ?? []
    // Never across columns: the new value must be known for a column the old one is known for —
    // the one the SQL names (its table and column appear in it), when the value is in several.
    const shared = fromColumns.filter((c) => toColumns.includes(c))
    const column = shared.find((c) => namedIn(example.sql, snapshot.tables[index.columns[c]![0]]!.name, index.columns[c]![1])) ?? shared[0]
    if (column === undefined) continue
    const [t, name] = index.columns[column]!
    const table = snapshot.tables[t]!
    const to = spelled(table.columns.find((c) => c.name === name)?.samples, toKey) ?? toText
    const replacement = `'${lead}${(pattern ? escapeLike(to) : to).replace(/'/g, "''")}${trail}'`
    return {
      example,
      sql: example.sql.split(literal).join(replacement),
      substituted: { column: `${table.schema === 'public' ? '' : `${table.schema}.`}${table.name}.${name}`, from, to },
    }
  }
  return null
}

function namedIn(sql: string, table: string, column: string): boolean {
  const word = (name: string) => new RegExp(`(^|[^\\p{L}\\p{N}_])"?${name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}"?($|[^\\p{L}\\p{N}_])`, 'iu')
  return word(table).test(sql) && word(column).test(sql)
}

/** The value as the column spells it, when a sample shows it (the key ignores case and spacing). */
function spelled(samples: string[] | undefined, key: string): string | undefined {
  return samples?.find((s) => valueKey(s) === key)
}

/** A value inside a LIKE pattern matches only itself: the default escape is the backslash. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}
