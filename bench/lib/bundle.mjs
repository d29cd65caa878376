// Bundles a TypeScript module of src/ for Node with esbuild, so benchmarks drive the real code.
// Modules are swapped as the default deployable build swaps them (wrangler.toml `[alias]`: the
// Hyperdrive way's node-postgres is left out), so what runs here is what the default build runs.
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'smol-toml'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')

export async function importSource(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-bench-'))
  const aliases = parse(readFileSync(join(root, 'wrangler.toml'), 'utf8')).alias ?? {}
  const alias = Object.fromEntries(Object.entries(aliases).map(([name, target]) => [name, resolve(root, target)]))
  try {
    const outfile = join(dir, 'bundle.mjs')
    // A .wasm import (Postgres's parser, src/sql/admission/pg-parser.ts) arrives as bytes, as wrangler hands it compiled.
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], alias, outfile, logLevel: 'error', loader: { '.wasm': 'binary' }, external: ['node:*'], target: 'node22' })
    return await import(pathToFileURL(outfile).href)
  } finally {
    // Once imported the module lives in memory: nothing of it stays behind in /tmp.
    rmSync(dir, { recursive: true, force: true })
  }
}
