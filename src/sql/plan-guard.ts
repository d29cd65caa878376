/**
 * The second gate: reads the plan Postgres made for an admitted query (EXPLAIN (FORMAT JSON,
 * VERBOSE)) and refuses writes, row locks and relations outside the business schemas — relations
 * as Postgres resolved them, views and search_path included — and function scans outside them: a
 * system view such as pg_settings or pg_stat_activity has no relation in the plan, only its
 * function (pg_show_all_settings, pg_stat_get_activity). Which functions the caller's text may call
 * is the admission gate's question (src/sql/admission), answered on the parse; functions in the
 * expressions of business views and row-level security policies are the owner's, not judged here.
 */
export type PlanVerdict = ({ ok: true; plan_rows: number; plan_cost: number } | { ok: false; reason: string }) & {
  /** Every relation the plan reads (`schema.table`, in plan order), refused or not: for the audit log. */
  relations: string[]
}

import { ALLOWED_FUNCTIONS } from './admission/allowed-functions'

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] }

export function inspectPlan(explain: unknown, allowedSchemas: string[]): PlanVerdict {
  const top = (Array.isArray(explain) ? explain[0] : explain) as { Plan?: PlanNode } | undefined
  const plan = top?.Plan
  if (!plan) return { ok: false, reason: 'Postgres returned no plan', relations: [] }
  const allowed = new Set(allowedSchemas)
  const relations = new Set<string>()
  let reason: string | null = null
  const refuse = (why: string) => {
    reason ??= why
  }
  // The whole plan is walked even after a refusal: the audit names everything the query reads.
  const stack: PlanNode[] = [plan]
  while (stack.length) {
    const node = stack.pop()!
    const type = String(node['Node Type'] ?? '')
    if (type === 'ModifyTable') refuse('the query writes data (INSERT/UPDATE/DELETE/MERGE); only reading queries are allowed')
    if (type === 'LockRows') refuse('the query locks rows (FOR UPDATE/SHARE); only plain reading queries are allowed')
    const schema = typeof node['Schema'] === 'string' ? (node['Schema'] as string) : undefined
    if (typeof node['Relation Name'] === 'string' && schema !== undefined) {
      relations.add(`${schema}.${node['Relation Name'] as string}`)
      if (!allowed.has(schema)) refuse(`the query reads ${schema}.${node['Relation Name'] as string}, outside the business schemas (${allowedSchemas.join(', ')})`)
    }
    if (type === 'Function Scan' && schema !== undefined && !allowed.has(schema)) {
      const fn = String(node['Function Name'] ?? '')
      if (!(schema === 'pg_catalog' && ALLOWED_FUNCTIONS.has(fn))) refuse(`the query reads ${schema}.${fn}(), outside the business schemas (${allowedSchemas.join(', ')})`)
    }
    if (Array.isArray(node.Plans)) stack.push(...node.Plans)
  }
  const read = [...relations]
  if (reason !== null) return { ok: false, reason, relations: read }
  return { ok: true, plan_rows: Number(plan['Plan Rows'] ?? 0), plan_cost: Number(plan['Total Cost'] ?? 0), relations: read }
}
