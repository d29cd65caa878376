import * as z from 'zod/mini'
import '../zod-locale'
import { GlossaryEntrySchema } from './glossary-schema'

/**
 * The schema snapshot kept in SCHEMA_KV: what the model is told about the business database.
 * Filled by hand (PUT /v1/admin/schema) or by introspecting Postgres. docs/SNAPSHOT.md explains
 * every field; keep the two in step.
 */
export const ColumnSchema = z.object({
  name: z.string().check(z.minLength(1)),
  /** The type as Postgres prints it (format_type), e.g. `character varying(64)`. */
  type: z.string().check(z.minLength(1)),
  nullable: z.optional(z.boolean()),
  default: z.nullish(z.string()),
  /** COMMENT ON COLUMN — often the only place the business meaning (in Chinese) lives. */
  comment: z.nullish(z.string()),
  /** A few distinct values of short text/enum-like columns, so the model filters the right column. */
  samples: z.optional(z.array(z.string())),
})

export const ForeignKeySchema = z.object({
  columns: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  ref_schema: z.optional(z.string()),
  ref_table: z.string().check(z.minLength(1)),
  ref_columns: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
})

export const TableSchema = z.object({
  schema: z._default(z.string().check(z.minLength(1)), 'public'),
  name: z.string().check(z.minLength(1)),
  kind: z._default(z.enum(['table', 'view']), 'table'),
  comment: z.nullish(z.string()),
  row_estimate: z.nullish(z.number()),
  columns: z.array(ColumnSchema).check(z.minLength(1)),
  primary_key: z.optional(z.array(z.string())),
  foreign_keys: z.optional(z.array(ForeignKeySchema)),
  unique: z.optional(z.array(z.array(z.string()))),
  /**
   * Rows are filtered per caller: row-level security on a table, or a view run with the caller's
   * rights (security_invoker). Its sample values and indexed row values are the service role's
   * rows, so roles (DB_ROLES) never see them.
   */
  row_security: z.optional(z.boolean()),
})

/** A table a role may read: all of its columns, or only `columns` (column privileges). */
export const RoleTableSchema = z.object({
  schema: z._default(z.string().check(z.minLength(1)), 'public'),
  name: z.string().check(z.minLength(1)),
  columns: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
})

/** What one Postgres role of DB_ROLES may SELECT, as a refresh found it (has_table_privilege, has_column_privilege). */
export const RoleViewSchema = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(63)),
  tables: z.array(RoleTableSchema),
})

export const ExampleSchema = z.object({
  /** The row's id in EXAMPLES_TABLE (absent in uploaded snapshots): named by `meta.examples` and `meta.verified`. */
  id: z.optional(z.string().check(z.regex(/^[1-9][0-9]{0,17}$/))),
  question: z.string().check(z.minLength(1)),
  sql: z.string().check(z.minLength(1)),
  /** When it was approved (ISO 8601); answered verified, `meta.verified.approved_at`. */
  approved_at: z.nullish(z.string()),
})

export const SnapshotSchema = z.object({
  /** Content hash (introspection) or a curated label (upload); shown in `meta` and /healthz. */
  // Printed in logs, terminals (the CLI) and the page: no control or invisible format characters
  // (newlines, escape sequences, bidi overrides) that could forge a line or hide text.
  version: z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u, 'no control or invisible format characters')),
  refreshed_at: z.optional(z.string()),
  source: z.optional(z.enum(['upload', 'introspection', 'demo'])),
  /**
   * The database it describes (src/schema/database-fingerprint.ts): set by a refresh, and by an
   * upload to a service with a database. The worker serves a snapshot only to the database it
   * names; one without (stored by an older version) is served as before until a refresh.
   */
  database: z.optional(z.string().check(z.regex(/^db-[0-9a-f]{16}$/))),
  dialect: z._default(z.literal('postgresql'), 'postgresql'),
  tables: z.array(TableSchema).check(z.minLength(1)),
  examples: z._default(z.array(ExampleSchema), []),
  /** The business glossary (src/schema/glossary.ts), copied in from KV when the snapshot is stored. */
  glossary: z.optional(z.array(GlossaryEntrySchema)),
  /**
   * Per role of DB_ROLES, the tables and columns it may read (src/schema/role-view.ts). Absent in
   * snapshots stored before roles existed: callers with a role then wait for a refresh.
   */
  roles: z.optional(z.array(RoleViewSchema)),
})

export type Column = z.infer<typeof ColumnSchema>
export type ForeignKey = z.infer<typeof ForeignKeySchema>
export type Table = z.infer<typeof TableSchema>
export type Example = z.infer<typeof ExampleSchema>
export type RoleView = z.infer<typeof RoleViewSchema>
export type Snapshot = z.infer<typeof SnapshotSchema>
/** What a caller may upload: defaults not yet applied. */
export type SnapshotInput = z.input<typeof SnapshotSchema>
