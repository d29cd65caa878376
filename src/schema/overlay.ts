import * as z from 'zod/mini'
import '../zod-locale'
import type { Table } from './snapshot-schema'

/**
 * Curated comments laid over introspected ones: where a database has no COMMENT ON (or a poor
 * one), an admin can say what `dtzpt` and its columns mean without touching the database.
 * Stored in KV beside the snapshot and applied at every refresh; a curated comment wins.
 */
export const OVERLAY_KEY = 'schema:overlay'

/**
 * A column: its curated comment (a string, as before), or `{ comment?, samples? }` — `samples:
 * false` keeps the column's values out of everything that leaves the company (sample values in
 * the prompt) and out of the link index (docs/SECURITY.md, "What leaves the company").
 */
const ColumnOverlaySchema = z.union([
  z.string().check(z.maxLength(2000)),
  z.strictObject({ comment: z.optional(z.string().check(z.maxLength(2000))), samples: z.optional(z.boolean()) }),
])

const TableOverlaySchema = z.object({
  comment: z.optional(z.string().check(z.maxLength(2000))),
  /** `false`: no column of this table has samples or linked values (a column may say `true` back). */
  samples: z.optional(z.boolean()),
  columns: z.optional(z.record(z.string().check(z.minLength(1)), ColumnOverlaySchema)),
})

export const OverlaySchema = z.object({
  /** Keyed by `schema.table`, or `table` for the `public` schema. */
  tables: z.record(z.string().check(z.minLength(1)), TableOverlaySchema),
})

export type Overlay = z.infer<typeof OverlaySchema>

export function overlayKey(schema: string, table: string): string {
  return `${schema}.${table}`
}

/**
 * Applies the overlay; returns what in it matched nothing (to report): an entry whose table is
 * not there by its key (`public.nope`), a column its table lacks as `key.column` (`dtzpt.zdlx`) —
 * the table's other comments still apply.
 */
export function applyOverlay(tables: Table[], overlay: Overlay | null): { tables: Table[]; unmatched: string[] } {
  if (!overlay) return { tables, unmatched: [] }
  const entries = new Map(Object.entries(overlay.tables).map(([k, v]) => [k.includes('.') ? k : `public.${k}`, { key: k, v, unknownColumns: null as string[] | null }]))
  const out = tables.map((t) => {
    const e = entries.get(overlayKey(t.schema, t.name))
    if (!e) return t
    e.unknownColumns = Object.keys(e.v.columns ?? {}).filter((name) => !t.columns.some((c) => c.name === name))
    const columns = t.columns.map((c) => {
      const comment = commentOf(e.v.columns?.[c.name])
      const column = comment !== undefined ? { ...c, comment } : c
      if (column.samples === undefined || samplesAllowed(e.v, c.name)) return column
      const { samples: _private, ...rest } = column
      return rest
    })
    return { ...t, ...(e.v.comment !== undefined ? { comment: e.v.comment } : {}), columns }
  })
  const unmatched = [...entries.values()].flatMap((e) => (e.unknownColumns === null ? [e.key] : e.unknownColumns.map((c) => `${e.key}.${c}`)))
  return { tables: out, unmatched }
}

function commentOf(entry: string | { comment?: string | undefined } | undefined): string | undefined {
  return typeof entry === 'string' ? entry : entry?.comment
}

type TableOverlay = Overlay['tables'][string]

/** Whether a column's values may be shown and indexed: its own `samples`, else its table's, else yes. */
function samplesAllowed(table: TableOverlay, column: string): boolean {
  const entry = table.columns?.[column]
  if (typeof entry === 'object' && entry.samples !== undefined) return entry.samples
  return table.samples ?? true
}

/** The key of a column in `columnsWithoutSamples` (names may hold dots). */
export const privateColumnKey = (schema: string, table: string, column: string): string => JSON.stringify([schema, table, column])

/** The columns (by `privateColumnKey`) whose values the overlay keeps out of prompts and the link index. */
export function columnsWithoutSamples(tables: Table[], overlay: Overlay | null): Set<string> {
  const out = new Set<string>()
  if (!overlay) return out
  for (const [key, entry] of Object.entries(overlay.tables)) {
    const [schema, name] = key.includes('.') ? [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)] : ['public', key]
    const table = tables.find((t) => t.schema === schema && t.name === name)
    for (const c of table?.columns ?? []) if (!samplesAllowed(entry, c.name)) out.add(privateColumnKey(schema!, name!, c.name))
  }
  return out
}

export async function loadOverlay(kv: KVNamespace): Promise<Overlay | null> {
  const raw = await kv.get(OVERLAY_KEY)
  if (raw === null) return null
  const parsed = OverlaySchema.safeParse(JSON.parse(raw))
  return parsed.success ? parsed.data : null
}
