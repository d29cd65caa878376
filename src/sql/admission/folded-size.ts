/**
 * The huge-constant rule. Postgres folds calls whose arguments are constants while it plans, and
 * EXPLAIN (VERBOSE) prints the folded value: `repeat('x', 60000000)` became a 60 MB plan that the
 * drivers read whole (workerd grew by 340 MB). EXPLAIN cannot be read in pieces, so the gate bounds
 * what can fold: every call of a function that can make its result much larger than its arguments
 * (AMPLIFIERS below) is given an upper bound of its result's size, and the query is refused when
 * their sum passes FOLDED_BYTES_LIMIT.
 *
 * A column can fold too: the planner pulls up a one-row VALUES list, an inlined CTE or a subquery
 * of constants (`SELECT repeat(v, n) FROM (VALUES ('x', 60000000)) t(v, n)`). So a column
 * reference counts as "any constant of this statement": as long as its longest string or folded
 * amplifier result, and as large as its largest number — over-estimating a real table's column,
 * which does not fold (its values are bounded at run time, by the row and byte caps).
 */
import { names } from './parse-names'

/** The most bytes all amplifier calls of one statement may fold into. */
export const FOLDED_BYTES_LIMIT = 1024 * 1024

type Node = Record<string, unknown>
/** A bound of a value: its size in bytes, and its magnitude when it is a number. Null: cannot fold. */
type Bound = { bytes: number; num: number | null } | null
/** Bytes of the result, and its magnitude when it is a number. */
type Amplifier = (args: Bound[], raw: unknown[]) => number

const numberOf = (b: Bound | undefined): number => (b?.num === null || b?.num === undefined ? Infinity : Math.abs(b.num))
const bytesOf = (b: Bound | undefined): number => b?.bytes ?? 0
/** Digits of a number with `log10` digits, capped at numeric's own limit (131,072 + 16,383 digits). */
const digits = (log10: number): number => Math.min(Math.max(1, Math.ceil(log10)) + 2, 147_456)

/** Functions that can return far more than they are given, and a bound of what they return. */
const AMPLIFIERS: Record<string, Amplifier> = {
  repeat: ([s, n]) => bytesOf(s) * numberOf(n),
  lpad: ([, n, fill]) => numberOf(n) * Math.max(4, bytesOf(fill)),
  rpad: ([, n, fill]) => numberOf(n) * Math.max(4, bytesOf(fill)),
  array_fill: ([v, dims], raw) => (bytesOf(v) + 1) * productOf(raw[1], dims),
  replace: ([s, , to]) => (bytesOf(s) + 1) * Math.max(1, bytesOf(to)),
  regexp_replace: ([s, , to]) => (bytesOf(s) + 1) * Math.max(1, bytesOf(to)),
  format: (args, raw) => args.reduce((sum, a) => sum + bytesOf(a), 0) + widthsOf(raw[0], args),
  factorial: ([n]) => digits(numberOf(n) * Math.log10(numberOf(n) + 1)),
  power: ([a, b]) => digits(numberOf(b) * Math.log10(numberOf(a) + 1)),
  pow: ([a, b]) => digits(numberOf(b) * Math.log10(numberOf(a) + 1)),
  exp: ([x]) => digits(numberOf(x) / Math.LN10),
  encode: ([s]) => bytesOf(s) * 4,
}

/** The magnitude of the numbers amplifiers return (the others return text or arrays). */
const MAGNITUDES: Record<string, (args: Bound[]) => number> = {
  factorial: ([n]) => (numberOf(n) > 170 ? Infinity : Array.from({ length: numberOf(n) }, (_, i) => i + 1).reduce((p, x) => p * x, 1)),
  power: ([a, b]) => Math.pow(numberOf(a), numberOf(b)),
  pow: ([a, b]) => Math.pow(numberOf(a), numberOf(b)),
  exp: ([x]) => Math.exp(numberOf(x)),
}

/**
 * The bytes a statement's amplifier calls may fold into (summed over all of them, an over-estimate
 * when they nest) and the largest one's name and location.
 */
export function estimateFoldedBytes(stmt: unknown): { bytes: number; name: string; location?: number; tooDeep?: true } {
  const literals = { bytes: 0, num: 0 }
  collectLiterals(stmt, literals)
  // Columns stand for any constant of the statement, folded amplifier results included: grow that
  // bound until it stops growing. Each nesting through a column needs one pass, so as many passes
  // as the statement nests queries — a fixed few would let a chain of CTEs, each doubling the one
  // before (`WITH b AS (SELECT s || s AS s FROM a), c AS (… FROM b) …`), fold past any bound.
  const depth = queryDepth(stmt)
  if (depth > MAX_QUERY_DEPTH) return { bytes: 0, name: '', tooDeep: true }
  let column: { bytes: number; num: number } = literals
  let result = { bytes: 0, name: '', location: undefined as number | undefined }
  for (let pass = 0; pass <= depth; pass++) {
    const e = new Estimate(column, (stmt as Node).SelectStmt)
    e.visit(stmt)
    result = { bytes: e.total, name: e.largest.name, location: e.largest.location }
    const next = { bytes: Math.max(column.bytes, e.maxBytes), num: Math.max(column.num, e.maxNum) }
    if (next.bytes === column.bytes && next.num === column.num) break
    if (e.total > FOLDED_BYTES_LIMIT) break
    column = next
  }
  return result
}

class Estimate {
  total = 0
  maxBytes = 0
  maxNum = 0
  largest: { name: string; bytes: number; location?: number } = { name: '', bytes: -1 }
  /** Links of a `||` chain below its top (operator): the top counts the chain once. */
  private readonly chained = new WeakSet<Node>()
  constructor(
    private readonly column: { bytes: number; num: number },
    private readonly top: unknown,
  ) {}

  visit(value: unknown): void {
    if (Array.isArray(value)) return value.forEach((v) => this.visit(v))
    if (typeof value !== 'object' || value === null) return
    for (const [key, body] of Object.entries(value as Node)) {
      if (key === 'FuncCall' || (key === 'A_Expr' && !this.chained.has(body as Node))) this.bound({ [key]: body })
      // Each reference to a column or a relation may print a folded value once more in the plan
      // (`WITH t AS (SELECT repeat('x', 1000000) AS v) SELECT v, v, v, … FROM t` prints it once per
      // output): every reference counts as a copy of the largest value a column may fold into.
      if (key === 'ColumnRef' || key === 'RangeVar') this.record('copies of a column', this.column.bytes, (body as Node).location, null)
      if (key === 'SelectStmt' && body !== this.top) this.source(body as Node)
      this.visit(body)
    }
  }

  /**
   * What a column may fold into comes from a subquery's, CTE's or VALUES list's outputs: their
   * bounds feed the next pass (the outer query's own outputs feed nothing).
   */
  private source(select: Node): void {
    const outputs = ((select.targetList ?? []) as { ResTarget?: Node }[]).map((t) => t.ResTarget?.val)
    const rows = ((select.valuesLists ?? []) as { List?: { items?: unknown[] } }[]).flatMap((l) => l.List?.items ?? [])
    for (const expr of [...outputs, ...rows]) {
      const b = this.bound(expr)
      if (!b) continue
      this.maxBytes = Math.max(this.maxBytes, b.bytes)
      if (b.num !== null && !Number.isNaN(b.num)) this.maxNum = Math.max(this.maxNum, Math.abs(b.num))
    }
  }

  /** A bound of an expression's value when it can fold (constants, columns, foldable calls); null when it cannot. */
  bound(value: unknown): Bound {
    if (typeof value !== 'object' || value === null) return null
    const [type, n] = Object.entries(value as Node)[0] ?? []
    const node = (n ?? {}) as Node
    switch (type) {
      case 'A_Const':
        return constant(node)
      case 'ColumnRef':
        return { bytes: this.column.bytes, num: this.column.num }
      case 'TypeCast':
      case 'CollateClause':
        return this.bound(node.arg)
      case 'A_ArrayExpr':
      case 'RowExpr':
      case 'CoalesceExpr':
      case 'MinMaxExpr':
        return this.sum((node.elements ?? node.args ?? []) as unknown[])
      case 'A_Expr':
        return this.operator(node)
      case 'FuncCall':
        return this.call(node)
      default:
        return null
    }
  }

  private sum(list: unknown[]): Bound {
    let bytes = 0
    for (const item of list) {
      const b = this.bound(item)
      if (!b) return null
      bytes += b.bytes
    }
    return { bytes, num: null }
  }

  private operator(node: Node): Bound {
    const op = names(node.name).pop()
    if (op === '||') {
      for (const side of [node.lexpr, node.rexpr]) {
        const inner = (side as Node | undefined)?.A_Expr as Node | undefined
        if (inner && names(inner.name).pop() === '||') this.chained.add(inner)
      }
    }
    const l = node.lexpr === undefined ? { bytes: 0, num: 0 } : this.bound(node.lexpr)
    const r = this.bound(node.rexpr)
    if (!l || !r) return null
    if (op === '^') return this.record('^', digits(numberOf(r) * Math.log10(numberOf(l) + 1)), node.location, Math.pow(numberOf(l), numberOf(r)))
    // Concatenation folds too (`s || s || …` over a one-row source): counted as an amplifier, once
    // per chain — its top holds the whole; the links below it are not counted again.
    if (op === '||') {
      const bytes = l.bytes + r.bytes
      return this.chained.has(node) ? { bytes, num: null } : this.record('||', bytes, node.location, null)
    }
    const num = l.num === null || r.num === null ? null : op === '*' ? l.num * r.num : op === '+' ? Math.abs(l.num) + Math.abs(r.num) : op === '-' ? Math.abs(l.num) + Math.abs(r.num) : op === '/' ? Math.abs(l.num) : null
    return { bytes: l.bytes + r.bytes + 16, num }
  }

  private call(node: Node): Bound {
    // Aggregates and window calls run over rows: never folded.
    if (node.over || node.agg_star || node.agg_order || node.agg_filter || node.agg_distinct) return null
    const name = names(node.funcname).pop() ?? ''
    const raw = (node.args ?? []) as unknown[]
    const args = raw.map((a) => this.bound(a))
    if (args.some((a) => a === null)) return null
    const amplify = AMPLIFIERS[name]
    if (amplify) return this.record(name, amplify(args, raw), node.location, MAGNITUDES[name]?.(args) ?? null)
    // Any other call: at most four times its arguments' bytes (encodings, case mapping), and no
    // larger a number than its arguments' numbers or sizes (length(s) <= bytes of s, abs(n) = |n|).
    const num = args.reduce((m, a) => Math.max(m, a!.num === null ? a!.bytes : Math.abs(a!.num)), 0)
    return { bytes: args.reduce((s, a) => s + bytesOf(a), 0) * 4 + 16, num }
  }

  private record(name: string, bytes: number, location: unknown, num: number | null): Bound {
    const size = Number.isFinite(bytes) ? bytes : Number.MAX_SAFE_INTEGER
    this.total += size
    if (size > this.largest.bytes) this.largest = { name, bytes: size, ...(typeof location === 'number' ? { location } : {}) }
    return { bytes: size, num }
  }
}

/** Queries nested deeper than this (subqueries, CTEs, VALUES lists inside one another) are not judged: refused. */
const MAX_QUERY_DEPTH = 64

/** How deep SELECTs nest in a statement (the statement itself is 1). */
function queryDepth(value: unknown, depth = 0): number {
  if (Array.isArray(value)) return value.reduce((m: number, v) => Math.max(m, queryDepth(v, depth)), depth)
  if (typeof value !== 'object' || value === null) return depth
  let max = depth
  for (const [key, body] of Object.entries(value as Node)) max = Math.max(max, queryDepth(body, key === 'SelectStmt' ? depth + 1 : depth))
  return max
}

function constant(c: Node): Bound {
  const s = (c.sval as { sval?: string } | undefined)?.sval
  if (s !== undefined) return { bytes: utf8Bytes(s), num: /^\s*-?\d+(\.\d*)?\s*$/.test(s) ? Number(s) : null }
  const i = c.ival as { ival?: number } | undefined
  if (i) return { bytes: 12, num: i.ival ?? 0 }
  const f = (c.fval as { fval?: string } | undefined)?.fval
  if (f !== undefined) return { bytes: f.length, num: Number(f) }
  const b = (c.bsval as { bsval?: string } | undefined)?.bsval
  if (b !== undefined) return { bytes: b.length, num: null }
  return { bytes: 8, num: 0 }
}

function collectLiterals(value: unknown, into: { bytes: number; num: number }): void {
  if (Array.isArray(value)) return value.forEach((v) => collectLiterals(v, into))
  if (typeof value !== 'object' || value === null) return
  for (const [key, body] of Object.entries(value as Node)) {
    if (key === 'A_Const') {
      const b = constant(body as Node)
      into.bytes = Math.max(into.bytes, b?.bytes ?? 0)
      if (b?.num !== null && b?.num !== undefined && Number.isFinite(b.num)) into.num = Math.max(into.num, Math.abs(b.num))
    }
    collectLiterals(body, into)
  }
}

/** array_fill's dimensions: `ARRAY[1000, 1000]` or `'{1000,1000}'`; unknown ones count as infinite. */
function productOf(raw: unknown, bound: Bound | undefined): number {
  const text = JSON.stringify(raw ?? null)
  const numbers = [...text.matchAll(/"(?:ival|fval|sval)":(?:\{"(?:ival|fval|sval)":)?"?\{?([\d.,\s]+)/g)].flatMap((m) => m[1]!.split(',').map(Number).filter(Number.isFinite))
  if (!numbers.length) return numberOf(bound)
  if (/ColumnRef/.test(text)) return Infinity
  return numbers.reduce((p, x) => p * Math.max(1, x), 1)
}

/** format()'s field widths (`%60000000s`, or `%*s` taking the width from an argument). */
function widthsOf(fmt: unknown, args: Bound[]): number {
  const text = (((fmt as Node)?.A_Const as Node)?.sval as { sval?: string } | undefined)?.sval
  if (text === undefined) return Math.max(0, ...args.map(numberOf))
  let sum = 0
  for (const m of text.matchAll(/%(?:\d+\$)?-?(\*(?:\d+\$)?|\d+)?[sIL%]/g)) {
    if (!m[1]) continue
    sum += m[1].startsWith('*') ? Math.max(0, ...args.map(numberOf)) : Number(m[1]) * 4
  }
  return sum
}

function utf8Bytes(s: string): number {
  let n = 0
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
  }
  return n
}
