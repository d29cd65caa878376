import { z } from 'zod'

/**
 * The schema snapshot kept in SCHEMA_KV: what the model is told about the business database.
 * Filled by hand (PUT /v1/admin/schema) or by introspecting Postgres. docs/SNAPSHOT.md explains
 * every field; keep the two in step.
 */
export const ColumnSchema = z.object({
  name: z.string().min(1),
  /** The type as Postgres prints it (format_type), e.g. `character varying(64)`. */
  type: z.string().min(1),
  nullable: z.boolean().optional(),
  default: z.string().nullish(),
  /** COMMENT ON COLUMN — often the only place the business meaning (in Chinese) lives. */
  comment: z.string().nullish(),
  /** A few distinct values of short text/enum-like columns, so the model filters the right column. */
  samples: z.array(z.string()).optional(),
})

export const ForeignKeySchema = z.object({
  columns: z.array(z.string().min(1)).min(1),
  ref_schema: z.string().optional(),
  ref_table: z.string().min(1),
  ref_columns: z.array(z.string().min(1)).min(1),
})

export const TableSchema = z.object({
  schema: z.string().min(1).default('public'),
  name: z.string().min(1),
  kind: z.enum(['table', 'view']).default('table'),
  comment: z.string().nullish(),
  row_estimate: z.number().nullish(),
  columns: z.array(ColumnSchema).min(1),
  primary_key: z.array(z.string()).optional(),
  foreign_keys: z.array(ForeignKeySchema).optional(),
  unique: z.array(z.array(z.string())).optional(),
})

export const ExampleSchema = z.object({
  question: z.string().min(1),
  sql: z.string().min(1),
})

export const SnapshotSchema = z.object({
  /** Content hash (introspection) or a curated label (upload); shown in `meta` and /healthz. */
  version: z.string().min(1).max(128),
  refreshed_at: z.string().optional(),
  source: z.enum(['upload', 'introspection', 'demo']).optional(),
  dialect: z.literal('postgresql').default('postgresql'),
  tables: z.array(TableSchema).min(1),
  examples: z.array(ExampleSchema).default([]),
})

export type Column = z.infer<typeof ColumnSchema>
export type ForeignKey = z.infer<typeof ForeignKeySchema>
export type Table = z.infer<typeof TableSchema>
export type Example = z.infer<typeof ExampleSchema>
export type Snapshot = z.infer<typeof SnapshotSchema>
/** What a caller may upload: defaults not yet applied. */
export type SnapshotInput = z.input<typeof SnapshotSchema>
