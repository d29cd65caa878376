/** A qualified name of the parse tree, `[{String:{sval:'pg_catalog'}}, {String:{sval:'now'}}]`, as `['pg_catalog', 'now']`. */
export function names(list: unknown): string[] {
  if (!Array.isArray(list)) return []
  return list.map((x) => String((x as { String?: { sval?: unknown } }).String?.sval ?? ''))
}
