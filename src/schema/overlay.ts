import * as z from 'zod/mini'
import '../zod-locale'
import type { Table } from './snapshot-schema'

/**
 * Curated comments laid over introspected ones: where a database has no COMMENT ON (or a poor
 * one), an admin can say what `dtzpt` and its columns mean without touching the database.
 * Stored in KV beside the snapshot and applied at every refresh; a curated comment wins.
 */
export const OVERLAY_KEY = 'schema:overlay'

const TableOverlaySchema = z.object({
  comment: z.optional(z.string().check(z.maxLength(2000))),
  columns: z.optional(z.record(z.string().check(z.minLength(1)), z.string().check(z.maxLength(2000)))),
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
    const columns = t.columns.map((c) => (e.v.columns?.[c.name] !== undefined ? { ...c, comment: e.v.columns[c.name] } : c))
    return { ...t, ...(e.v.comment !== undefined ? { comment: e.v.comment } : {}), columns }
  })
  const unmatched = [...entries.values()].flatMap((e) => (e.unknownColumns === null ? [e.key] : e.unknownColumns.map((c) => `${e.key}.${c}`)))
  return { tables: out, unmatched }
}

export async function loadOverlay(kv: KVNamespace): Promise<Overlay | null> {
  const raw = await kv.get(OVERLAY_KEY)
  if (raw === null) return null
  const parsed = OverlaySchema.safeParse(JSON.parse(raw))
  return parsed.success ? parsed.data : null
}
