/**
 * The catalog queries of introspection: one for relations with their columns, one for keys. Both
 * take the schema list as $1 and see only what the connected role may SELECT (table or column
 * privileges), so a role without rights on a table never learns it exists.
 */

/** Relations (tables, partitioned tables, views, materialized views, foreign tables) + columns. */
export const RELATIONS_SQL = `
SELECT c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS relkind,
       obj_description(c.oid, 'pg_class') AS comment,
       c.reltuples::float8 AS reltuples,
       (c.relrowsecurity OR EXISTS (SELECT 1 FROM unnest(c.reloptions) o WHERE o ~* '^security_invoker=(t|tr|tru|true|y|ye|yes|on|1)$')) AS row_security,
       -- Row-level security applies to the introspecting role itself (not the owner, no BYPASSRLS):
       -- pg_stats hides the table's statistics from it and its policies filter the rows it reads.
       (c.relrowsecurity AND row_security_active(c.oid)) AS rows_hidden,
       (SELECT json_agg(json_build_object(
                 'name', a.attname,
                 'type', format_type(a.atttypid, a.atttypmod),
                 'nullable', NOT a.attnotnull,
                 'default', pg_get_expr(d.adbin, d.adrelid),
                 'comment', col_description(c.oid, a.attnum),
                 'category', bt.typcategory::text,
                 'enum', CASE WHEN bt.typtype = 'e'
                              THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid)
                         END)
               ORDER BY a.attnum)
          FROM pg_attribute a
          JOIN pg_type t ON t.oid = a.atttypid
          JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND has_column_privilege(c.oid, a.attnum, 'SELECT')) AS columns
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND NOT c.relispartition
   AND n.nspname = ANY($1::text[])
   AND (has_table_privilege(c.oid, 'SELECT') OR has_any_column_privilege(c.oid, 'SELECT'))
 ORDER BY n.nspname, c.relname`

/** Primary keys, foreign keys (composite, cross-schema) and unique constraints/indexes. */
export const KEYS_SQL = `
SELECT con.conrelid::int8 AS oid,
       con.contype::text AS kind,
       (SELECT json_agg(a.attname ORDER BY k.ord)
          FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       fn.nspname AS ref_schema,
       fc.relname AS ref_table,
       (SELECT json_agg(a.attname ORDER BY k.ord)
          FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
 WHERE con.contype IN ('p', 'f', 'u') AND n.nspname = ANY($1::text[])
UNION ALL
SELECT i.indrelid::int8, 'u',
       (SELECT json_agg(a.attname ORDER BY k.ord)
          FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
       NULL, NULL, NULL
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL AND 0 <> ALL (i.indkey::int2[])
   AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid)
   AND n.nspname = ANY($1::text[])`

/**
 * Values from the planner's statistics (no table scan): the most common values, then histogram
 * bounds, of short columns (the caller keeps the text-like ones), with the estimated number of
 * distinct values (negative: a share of the rows). For a column of few distinct values these are
 * all of them. pg_stats shows only columns the role may read.
 */
export const STATS_SAMPLES_SQL = `
SELECT s.schemaname AS schema, s.tablename AS name, s.attname AS column,
       COALESCE(s.most_common_vals::text, '{}')::text[] || COALESCE(s.histogram_bounds::text, '{}')::text[] AS vals,
       s.n_distinct::float8 AS n_distinct
  FROM pg_stats s
 WHERE s.schemaname = ANY($1::text[])
   AND s.avg_width <= $2
   AND COALESCE(s.most_common_vals, s.histogram_bounds) IS NOT NULL`

/**
 * What each role of DB_ROLES ($1) may SELECT in the schemas ($2): per relation, whether the whole
 * table (table privilege) or which columns (column privileges) — asked of Postgres per role
 * without switching to it. A role missing from the database has no rows (the refresh reports it).
 */
export const ROLE_PRIVILEGES_SQL = `
SELECT r.rolname AS role,
       n.nspname AS schema,
       c.relname AS name,
       has_table_privilege(r.oid, c.oid, 'SELECT') AS whole,
       (SELECT json_agg(a.attname ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')) AS columns
  FROM pg_roles r
  CROSS JOIN pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.rolname = ANY($1::text[])
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND NOT c.relispartition
   AND n.nspname = ANY($2::text[])
   AND has_schema_privilege(r.oid, n.oid, 'USAGE')
   AND (has_table_privilege(r.oid, c.oid, 'SELECT') OR has_any_column_privilege(r.oid, c.oid, 'SELECT'))
 ORDER BY r.rolname, n.nspname, c.relname`
