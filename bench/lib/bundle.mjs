// Bundles a TypeScript module of src/ for Node with esbuild, so benchmarks drive the real code.
import { build } from 'esbuild'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export async function importSource(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-bench-'))
  try {
    const outfile = join(dir, 'bundle.mjs')
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], outfile, logLevel: 'error' })
    return await import(pathToFileURL(outfile).href)
  } finally {
    // Once imported the module lives in memory: nothing of it stays behind in /tmp.
    rmSync(dir, { recursive: true, force: true })
  }
}
