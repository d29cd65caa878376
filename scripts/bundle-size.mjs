// What `wrangler deploy` uploads, built without an account (`--dry-run --outdir`), and its size
// against the budget (BENCHMARKS.md, P7). Shared by `npm run deploy -- --dry-run`, the tests that
// run the built bundle, and the benchmark.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

/** The deployed bundle's budget: gzip -9 of every module wrangler uploads (P7). */
export const BUNDLE_BUDGET_BYTES = 100 * 1024

/**
 * Builds the Worker as `wrangler deploy` would upload it into `outdir`.
 * @param {{ root: string, outdir: string, config?: string, minify?: boolean }} options `config`: a
 *   derived configuration (scripts/database-route.mjs) instead of wrangler.toml
 */
export function buildWorker({ root, outdir, config, minify = true }) {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir, ...(config ? ['--config', config] : []), ...(minify ? [] : ['--minify=false'])],
    { cwd: root, stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  )
  return outdir
}

/** Raw and gzip -9 bytes of the JavaScript modules in a built Worker's directory. */
export function measureBundle(outdir) {
  let raw = 0
  let gzip = 0
  const modules = readdirSync(outdir).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))
  for (const file of modules) {
    const bytes = readFileSync(join(outdir, file))
    raw += bytes.length
    gzip += gzipSync(bytes, { level: 9 }).length
  }
  return { modules, rawBytes: raw, gzipBytes: gzip, withinBudget: gzip <= BUNDLE_BUDGET_BYTES }
}

/** "98.5 KiB gzip (100,835 bytes) of 100 KiB" */
export function describeSize({ gzipBytes }) {
  return `${(gzipBytes / 1024).toFixed(1)} KiB gzip (${gzipBytes.toLocaleString('en-US')} bytes) of ${BUNDLE_BUDGET_BYTES / 1024} KiB`
}
