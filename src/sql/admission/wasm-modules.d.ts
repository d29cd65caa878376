// A `.wasm` import: wrangler (and the vitest pool) hand it over compiled; esbuild's `binary` loader
// (bench/lib/bundle.mjs, eval:live) as bytes. src/sql/admission/pg-parser.ts takes either.
declare module '*.wasm' {
  const wasm: WebAssembly.Module | Uint8Array
  export default wasm
}

// The Emscripten factory of libpg-query (Postgres 18's parser compiled to WASM); no types shipped.
declare module 'libpg-query/wasm/libpg-query.js' {
  const factory: (options: Record<string, unknown>) => Promise<unknown>
  export default factory
}
