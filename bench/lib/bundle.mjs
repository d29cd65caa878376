// Bundles a TypeScript module of src/ for Node with esbuild, so benchmarks drive the real code.
import { build } from 'esbuild'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export async function importSource(entry) {
  const outfile = join(mkdtempSync(join(tmpdir(), 'txt2sql-bench-')), 'bundle.mjs')
  await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], outfile, logLevel: 'error' })
  return import(pathToFileURL(outfile).href)
}
