/// <reference path="./wasm-modules.d.ts" />
// Postgres's own parser (libpg_query, the Postgres 18 grammar, compiled to WASM by the npm package
// `libpg-query`), loaded once per isolate. The package's entry (`wasm/index.js`) cannot be used in a
// Worker: it calls the Emscripten factory with no options, which then looks for the .wasm beside the
// script. So the factory and the .wasm are imported here and the module is handed over
// (`instantiateWasm`); the small result-reading code below follows the package's own `parse`.
import factory from 'libpg-query/wasm/libpg-query.js'
import wasm from 'libpg-query/wasm/libpg-query.wasm'

/** A parse tree as libpg_query returns it (JSON): `{ version, stmts: [{ stmt, stmt_location?, stmt_len? }] }`. */
export type ParseTree = { version: number; stmts?: { stmt: Record<string, unknown>; stmt_location?: number; stmt_len?: number }[] }
/** A syntax error, with its position when the parser gives one: characters of the text, from 1 (as Postgres counts). */
export type ParseError = { message: string; position?: number }
export type Parsed = { ok: true; tree: ParseTree } | ({ ok: false; tooDeep?: true } & ParseError)

type PgQueryModule = {
  _malloc(n: number): number
  _free(ptr: number): void
  _wasm_parse_query_raw(ptr: number): number
  _wasm_free_parse_result(ptr: number): void
  lengthBytesUTF8(s: string): number
  stringToUTF8(s: string, ptr: number, max: number): void
  UTF8ToString(ptr: number): string
  getValue(ptr: number, type: string): number
}

let loading: Promise<PgQueryModule> | undefined
let loaded: PgQueryModule | undefined

/** Instantiates the parser (once per isolate; later calls return at once). */
export function loadParser(): Promise<void> {
  loading ??= instantiate().then((m) => (loaded = m))
  // A failed load is not kept: the next call tries again.
  loading.catch(() => (loading = undefined))
  return loading.then(() => undefined)
}

async function instantiate(): Promise<PgQueryModule> {
  const g = globalThis as { location?: unknown; process?: unknown }
  // Emscripten picks its environment from globals: workerd looks like Node (`process`) and like a
  // worker at once, and then reads `self.location.href` and `__dirname`. Hidden `process` and a
  // stand-in `location` while the factory runs: it then takes the plain worker path, reads no file, and
  // uses the module given below. Node (eval:live) goes the same way.
  // Both are put back afterwards: other code reads `location` (the MCP SDK builds URLs from it).
  const hadLocation = 'location' in globalThis
  const savedLocation = g.location
  if (savedLocation === undefined) g.location = { href: 'file:///pg-parser/' }
  const saved = g.process
  g.process = undefined
  try {
    return (await factory({
      instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        instantiateFrom(wasm, imports).then(({ instance, module }) => done(instance, module))
        return {}
      },
    })) as PgQueryModule
  } finally {
    g.process = saved
    if (savedLocation === undefined) {
      if (hadLocation) g.location = savedLocation
      else delete g.location
    }
  }
}

async function instantiateFrom(source: WebAssembly.Module | Uint8Array, imports: WebAssembly.Imports): Promise<{ instance: WebAssembly.Instance; module: WebAssembly.Module }> {
  if (source instanceof WebAssembly.Module) return { instance: await WebAssembly.instantiate(source, imports), module: source }
  return (await WebAssembly.instantiate(source as BufferSource, imports)) as unknown as { instance: WebAssembly.Instance; module: WebAssembly.Module }
}

/** Whether `loadParser()` has finished in this isolate (sync callers then may parse). */
export function isParserLoaded(): boolean {
  return loaded !== undefined
}

/** Parses SQL with Postgres's grammar. Call (and await) `loadParser()` first. */
export function parseSql(sql: string): Parsed {
  const m = loaded
  if (!m) throw new Error('the SQL parser is not loaded: await loadParser() first')
  const length = m.lengthBytesUTF8(sql) + 1
  const text = m._malloc(length)
  let result = 0
  try {
    m.stringToUTF8(sql, text, length)
    try {
      result = m._wasm_parse_query_raw(text)
    } catch {
      // A text that nests deeper than the WASM stack (`1||1||…` 20,000 times fits in a request
      // body) traps inside the parser. An instance left mid-call is not trusted again: the next
      // use instantiates a fresh one.
      if (loaded === m) {
        loaded = undefined
        loading = undefined
      }
      return { ok: false, message: 'the query nests too deeply to be parsed', tooDeep: true }
    }
    if (!result) throw new Error('the SQL parser ran out of memory')
    // PgQueryParseResult { char *parse_tree; char *stderr_buffer; PgQueryError *error }
    const tree = m.getValue(result, 'i32')
    const error = m.getValue(result + 8, 'i32')
    if (error) {
      // PgQueryError { char *message; char *funcname; char *filename; int lineno; int cursorpos }
      const message = m.UTF8ToString(m.getValue(error, 'i32')) || 'syntax error'
      const cursor = m.getValue(error + 16, 'i32')
      // Postgres's own error position: 1-based, in characters (not bytes) of the text.
      return cursor > 0 ? { ok: false, message, position: cursor } : { ok: false, message }
    }
    return { ok: true, tree: JSON.parse(m.UTF8ToString(tree)) as ParseTree }
  } finally {
    m._free(text)
    if (result) m._wasm_free_parse_result(result)
  }
}

/**
 * A node's `location` in the tree is a byte offset into the UTF-8 text; the caller counts
 * characters. Converts a byte offset to a character (UTF-16 code unit) offset.
 */
export function bytesToChars(sql: string, bytes: number): number {
  let b = 0
  let i = 0
  while (i < sql.length && b < bytes) {
    const code = sql.codePointAt(i)!
    b += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4
    i += code >= 0x10000 ? 2 : 1
  }
  return i
}
