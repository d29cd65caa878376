// P7: the deployable bundle's gzip size (wrangler deploy --dry-run) and what it is made of.
import { execFileSync } from 'node:child_process'
import { build } from 'esbuild'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export async function measureBundle() {
  const outdir = mkdtempSync(join(tmpdir(), 'txt2sql-dist-'))
  execFileSync(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', outdir], { stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } })
  const files = readdirSync(outdir).filter((f) => f.endsWith('.js'))
  let raw = 0
  let gz = 0
  for (const f of files) {
    const bytes = readFileSync(join(outdir, f))
    raw += statSync(join(outdir, f)).size
    gz += gzipSync(bytes, { level: 9 }).length
  }
  // Contributors: esbuild's metafile of the same entry (close to, not the same as, wrangler's bundle).
  const meta = await build({ entryPoints: ['src/index.ts'], bundle: true, format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'], external: ['cloudflare:*', 'node:*'], write: false, metafile: true, minify: false, logLevel: 'silent' })
  const byPackage = new Map()
  for (const [path, info] of Object.entries(meta.metafile.outputs[Object.keys(meta.metafile.outputs)[0]].inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
    const key = m ? m[1] : path.startsWith('src/') ? 'src/ (ours)' : path
    byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput)
  }
  const contributors = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
  return { rawKB: raw / 1024, gzipKB: gz / 1024, gzipBytes: gz, contributors }
}
