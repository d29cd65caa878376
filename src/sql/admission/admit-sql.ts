/**
 * The admission gate: every SQL text the service did not write itself (the model's answer, a
 * caller's `POST /v1/sql` / MCP `run_sql`, an example shown to a role, eval:live) is parsed by
 * Postgres's own grammar and admitted only when it is ONE plain query whose every function call,
 * cast and sampling method is on the allowlist (allowed-functions.ts). It admits; it never hunts:
 * anything it does not know is refused. Postgres's plan is the second gate (src/sql/plan-guard.ts:
 * the relations and schemas the plan reads). Functions inside the database's own objects (row-level
 * security policies, views) are the owner's and are not the caller's text: they are not judged here.
 */
import { ALLOWED_FUNCTIONS, ALLOWED_SAMPLE_METHODS, ALLOWED_VALUE_FUNCTIONS, REFUSED_TYPES } from './allowed-functions'
import { estimateFoldedBytes, FOLDED_BYTES_LIMIT } from './folded-size'
import { names } from './parse-names'
import { bytesToChars, loadParser, parseSql } from './pg-parser'

export type AdmissionRule =
  | 'syntax' | 'statement' | 'one_statement' | 'data_modifying' | 'locking' | 'into' | 'function' | 'value_function'
  | 'type' | 'operator' | 'xml' | 'tablesample' | 'relation' | 'huge_constant' | 'too_complex'

export type Admission =
  | { ok: true; relations: string[] }
  | { ok: false; rule: AdmissionRule; error: string; position?: number; relations: string[] }

export type AdmitOptions = {
  /** Business-schema functions the operator allows (DB_FUNCTIONS): `schema.name`. */
  functions?: readonly string[]
}

/** Loads the parser (once per isolate) and admits — or refuses — one SQL text. */
export async function admitSql(sql: string, opts: AdmitOptions = {}): Promise<Admission> {
  await loadParser()
  return admitParsedSql(sql, opts)
}

type Node = Record<string, unknown>
type Refusal = { rule: AdmissionRule; error: string; location?: number }

/** As admitSql, once the parser is loaded (pg-parser.ts `loadParser`). */
export function admitParsedSql(sql: string, opts: AdmitOptions = {}): Admission {
  const parsed = parseSql(sql)
  if (!parsed.ok && parsed.tooDeep) return tooComplex()
  if (!parsed.ok) return { ok: false, rule: 'syntax', error: parsed.message, ...(parsed.position ? { position: parsed.position } : {}), relations: [] }
  const stmts = parsed.tree.stmts ?? []
  if (stmts.length === 0) return { ok: false, rule: 'statement', error: 'no SQL statement was given', relations: [] }
  if (stmts.length > 1) {
    const at = stmts[1]?.stmt_location
    return { ok: false, rule: 'one_statement', error: 'exactly one statement is admitted', ...(at !== undefined ? { position: bytesToChars(sql, at) + 1 } : {}), relations: [] }
  }
  const stmt = stmts[0]!.stmt
  const walk = new Walk(new Set((opts.functions ?? []).map((f) => f.toLowerCase())))
  if (!('SelectStmt' in stmt)) walk.refuse({ rule: 'statement', error: 'only SELECT statements are admitted (SELECT, VALUES, WITH … SELECT)' })
  try {
    walk.visit(stmt, new Set())
    if (!walk.refusal) {
      const folded = estimateFoldedBytes(stmt)
      if (folded.tooDeep) return tooComplex()
      if (folded.bytes > FOLDED_BYTES_LIMIT) {
        walk.refuse({ rule: 'huge_constant', error: `the query builds a constant of up to ${folded.bytes} bytes (${folded.name}); at most ${FOLDED_BYTES_LIMIT} are admitted`, location: folded.location })
      }
    }
  } catch (err) {
    // A tree nested deeper than the walk's stack is refused, never half judged.
    if (err instanceof RangeError) return tooComplex()
    throw err
  }
  const relations = [...walk.relations]
  const r = walk.refusal
  if (!r) return { ok: true, relations }
  const position = r.location !== undefined && r.location >= 0 ? bytesToChars(sql, r.location) + 1 : undefined
  return { ok: false, rule: r.rule, error: r.error, ...(position ? { position } : {}), relations }
}

function tooComplex(): Admission {
  return { ok: false, rule: 'too_complex', error: 'the query nests too deeply to be checked; write it with fewer nested expressions or subqueries', relations: [] }
}

/** Schemas of the server itself; an unqualified catalog name (`pg_settings`) is refused by the plan. */
const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema', 'pg_toast'])

const WRITES: Record<string, string> = { InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE' }

class Walk {
  refusal: Refusal | undefined
  /** What the text names as relations (`schema.name` or `name`), CTE names left out; for examples and the audit. */
  readonly relations = new Set<string>()
  constructor(private readonly businessFunctions: ReadonlySet<string>) {}

  refuse(r: Refusal): void {
    // The first refusal is the one reported; the walk goes on so `relations` is complete.
    this.refusal ??= r
  }

  /** Visits any value of the tree; `ctes`: the CTE names visible here (they are not relations). */
  visit(value: unknown, ctes: ReadonlySet<string>): void {
    if (Array.isArray(value)) {
      for (const v of value) this.visit(v, ctes)
      return
    }
    if (typeof value !== 'object' || value === null) return
    for (const [key, body] of Object.entries(value as Node)) {
      if (typeof body !== 'object' || body === null) continue
      // A node is `{ Type: {...} }`; a few fields hold a struct without its wrapper (typeName, withClause, intoClause).
      if (/^[A-Z]/.test(key)) this.node(key, body as Node, ctes)
      else if (key === 'typeName') this.typeName(body as Node)
      else this.visit(body, ctes)
    }
  }

  private node(type: string, n: Node, ctes: ReadonlySet<string>): void {
    const at = typeof n.location === 'number' ? n.location : undefined
    if (type in WRITES) this.refuse({ rule: 'data_modifying', error: `data-modifying statements are not admitted (${WRITES[type]})`, location: at })
    switch (type) {
      case 'SelectStmt':
        return this.select(n, ctes)
      case 'RangeVar':
        return this.rangeVar(n, ctes)
      case 'FuncCall':
        this.call(names(n.funcname), at)
        break
      case 'SQLValueFunction':
        if (!ALLOWED_VALUE_FUNCTIONS.has(String(n.op))) this.refuse({ rule: 'value_function', error: `${String(n.op).replace(/^SVFOP_/, '').replace(/_N$/, '')} is not allowed`, location: at })
        break
      case 'A_Expr': {
        const op = names(n.name)
        if (op.length > 1 && op[0] !== 'pg_catalog') this.refuse({ rule: 'operator', error: `operator ${op.join('.')} is not allowed (only pg_catalog's operators)`, location: at })
        break
      }
      case 'XmlExpr':
      case 'XmlSerialize':
      case 'RangeTableFunc':
        this.refuse({ rule: 'xml', error: 'XML functions are not admitted', location: at })
        break
      case 'RangeTableSample': {
        const method = names(n.method)
        if (method.length !== 1 || !ALLOWED_SAMPLE_METHODS.has(method[0]!)) this.refuse({ rule: 'tablesample', error: `TABLESAMPLE method ${method.join('.')} is not allowed`, location: at })
        break
      }
      case 'TypeCast':
        break
      default:
        if (/Stmt$/.test(type) && !(type in WRITES)) this.refuse({ rule: 'statement', error: 'only SELECT statements are admitted (SELECT, VALUES, WITH … SELECT)', location: at })
    }
    this.visit(n, ctes)
  }

  private select(n: Node, outer: ReadonlySet<string>): void {
    if (Array.isArray(n.lockingClause) && n.lockingClause.length) this.refuse({ rule: 'locking', error: 'locking clauses (FOR UPDATE/SHARE) are not admitted' })
    if (n.intoClause) this.refuse({ rule: 'into', error: 'SELECT … INTO is not admitted' })
    const withClause = n.withClause as { ctes?: { CommonTableExpr?: Node }[]; recursive?: boolean } | undefined
    const ctes = (withClause?.ctes ?? []).map((c) => c.CommonTableExpr ?? {})
    const all = new Set([...outer, ...ctes.map((c) => String(c.ctename))])
    // A CTE sees the ones before it, and itself and all of its siblings only WITH RECURSIVE: a
    // non-recursive `WITH employees AS (SELECT * FROM employees)` reads the real table.
    ctes.forEach((cte, i) => {
      const visible = withClause?.recursive ? all : new Set([...outer, ...ctes.slice(0, i).map((c) => String(c.ctename))])
      this.visit(cte, visible)
    })
    for (const [key, value] of Object.entries(n)) if (key !== 'withClause') this.visit(value, all)
  }

  private rangeVar(n: Node, ctes: ReadonlySet<string>): void {
    const name = String(n.relname)
    if (typeof n.catalogname === 'string') this.refuse({ rule: 'relation', error: `cross-database reference ${n.catalogname}.${String(n.schemaname)}.${name} is not admitted`, location: n.location as number })
    if (typeof n.schemaname === 'string' && SYSTEM_SCHEMAS.has(n.schemaname)) {
      this.refuse({ rule: 'relation', error: `relation ${n.schemaname}.${name} is not admitted (system catalogs are not business data)`, location: n.location as number })
    }
    if (typeof n.schemaname === 'string') this.relations.add(`${n.schemaname}.${name}`)
    else if (!ctes.has(name)) this.relations.add(name)
  }

  private call(name: string[], at: number | undefined): void {
    const [first, second] = name
    const allowed =
      name.length === 1 ? ALLOWED_FUNCTIONS.has(first!) || [...this.businessFunctions].some((f) => f.endsWith(`.${first}`))
      : name.length === 2 ? (first === 'pg_catalog' ? ALLOWED_FUNCTIONS.has(second!) : this.businessFunctions.has(`${first}.${second}`))
      : false
    if (!allowed) this.refuse({ rule: 'function', error: `function ${name.join('.')} is not allowed`, location: at })
  }

  private typeName(t: Node): void {
    const name = names(t.names)
    const last = name[name.length - 1]
    if (last && REFUSED_TYPES.has(last) && (name.length === 1 || name[0] === 'pg_catalog')) {
      this.refuse({ rule: 'type', error: `type ${last} is not allowed`, location: t.location as number })
    }
  }
}
