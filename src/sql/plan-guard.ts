/**
 * Reads the plan Postgres made for a model's query (EXPLAIN (FORMAT JSON, VERBOSE)) and refuses
 * what a question never needs: writes, row locks, relations outside the business schemas, and
 * functions that reach outside the transaction or the database. Works on Postgres's own deparsed
 * plan, so comments, quoting and spacing in the model's text cannot hide a call.
 */
export type PlanVerdict = ({ ok: true; plan_rows: number; plan_cost: number } | { ok: false; reason: string }) & {
  /** Every relation the plan reads (`schema.table`, in plan order), refused or not: for the audit log. */
  relations: string[]
}

/** Set-returning functions of pg_catalog a query may scan (FROM generate_series(…)). */
const ALLOWED_CATALOG_SRFS = new Set([
  'generate_series', 'generate_subscripts', 'unnest', 'regexp_matches', 'regexp_split_to_table', 'string_to_table',
  'json_each', 'json_each_text', 'jsonb_each', 'jsonb_each_text', 'json_array_elements', 'json_array_elements_text',
  'jsonb_array_elements', 'jsonb_array_elements_text', 'json_to_record', 'json_to_recordset', 'jsonb_to_record',
  'jsonb_to_recordset', 'json_populate_record', 'json_populate_recordset', 'jsonb_populate_record',
  'jsonb_populate_recordset', 'jsonb_path_query', 'json_object_keys', 'jsonb_object_keys',
])

/**
 * Functions that sleep, read or write server files, reach other servers, take locks that outlive
 * the statement, change settings or sequences, signal backends, or run SQL from a string.
 */
const DENIED_FUNCTION = new RegExp(
  String.raw`(?:^|[^\w$])(?:pg_catalog\.)?(` +
    [
      'pg_sleep\\w*', 'pg_read_file', 'pg_read_binary_file', 'pg_ls_\\w+', 'pg_stat_file', 'pg_file_\\w+',
      'lo_\\w+', 'loread', 'lowrite', 'dblink\\w*', 'set_config', 'pg_advisory\\w*', 'pg_try_advisory\\w*',
      'nextval', 'setval', 'currval', 'lastval', 'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf',
      'pg_rotate_logfile', 'pg_switch_wal', 'pg_create_\\w+', 'pg_drop_\\w+', 'pg_notify', 'pg_logical_\\w+',
      'pg_replication_\\w+', 'pg_stat_reset\\w*', 'pg_promote', 'pg_log_backend_memory_contexts',
      'query_to_xml\\w*', 'query_to_xmlschema', 'cursor_to_xml\\w*', 'table_to_xml\\w*', 'schema_to_xml\\w*',
      'database_to_xml\\w*', 'pg_import_system_collations', 'pg_backup_\\w+', 'pg_start_backup', 'pg_stop_backup',
      'pg_wal_replay_\\w+', 'pg_current_logfile', 'txid_current', 'pg_current_xact_id',
    ].join('|') +
    String.raw`)\s*\(`,
  'i',
)

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
      if (!(schema === 'pg_catalog' && ALLOWED_CATALOG_SRFS.has(fn))) refuse(`the query calls ${schema}.${fn}(), which is not allowed`)
    }
    for (const text of expressionsOf(node)) {
      // String literals are data, not calls: '…pg_sleep(…' in a filter value is harmless.
      const m = DENIED_FUNCTION.exec(text.replace(/'(?:[^']|'')*'/g, "''"))
      if (m) refuse(`the query calls ${m[1]}(), which is not allowed`)
    }
    if (Array.isArray(node.Plans)) stack.push(...node.Plans)
  }
  const read = [...relations]
  if (reason !== null) return { ok: false, reason, relations: read }
  return { ok: true, plan_rows: Number(plan['Plan Rows'] ?? 0), plan_cost: Number(plan['Total Cost'] ?? 0), relations: read }
}

/** Every deparsed expression of a node: outputs, filters, conditions, function calls, sort keys. */
function expressionsOf(node: PlanNode): string[] {
  const out: string[] = []
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Plans') continue
    if (typeof value === 'string') out.push(value)
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.push(v)
  }
  return out
}
