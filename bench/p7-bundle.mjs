// P7: the deployable bundle's gzip size (wrangler deploy --dry-run) and what it is made of — the
// default build (the Neon driver) and the Hyperdrive build (node-postgres), each as deployed.
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { buildBundles, EMBED } from '../scripts/build-assets.mjs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildWorker, measureBundle as measureBuilt } from '../scripts/bundle-size.mjs'
import { localHyperdrives, writeDerivedConfig } from '../scripts/database-route.mjs'

const root = process.cwd()

function measureBuild(config) {
  const outdir = mkdtempSync(join(tmpdir(), 'txt2sql-dist-'))
  try {
    const { rawBytes, gzipBytes } = measureBuilt(buildWorker({ root, outdir, config }))
    return { rawKB: rawBytes / 1024, gzipKB: gzipBytes / 1024, gzipBytes }
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

/** /embed.js (<txt2sql-chat>, issue 33) as scripts/build-assets.mjs builds it: host pages download it. */
export async function measureEmbed() {
  await buildBundles()
  const raw = readFileSync(join(root, 'public', EMBED.script))
  return { rawKB: raw.length / 1024, gzipKB: gzipSync(raw, { level: 9 }).length / 1024, gzipBytes: gzipSync(raw, { level: 9 }).length }
}

export async function measureBundle() {
  const neon = measureBuild()
  const hyperdriveConfig = writeDerivedConfig(root, '.wrangler-bench.hyperdrive.jsonc', localHyperdrives(['HYPERDRIVE', 'HYPERDRIVE_READONLY']), 'bench/p7-bundle.mjs')
  let hyperdrive
  try {
    hyperdrive = measureBuild(hyperdriveConfig)
  } finally {
    rmSync(hyperdriveConfig, { force: true })
  }
  // Contributors: esbuild's metafile of the same entry (close to, not the same as, wrangler's bundle).
  const meta = await build({ entryPoints: ['src/index.ts'], bundle: true, format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'], external: ['cloudflare:*', 'node:*', 'pg', 'pg-cloudflare'], write: false, metafile: true, minify: false, logLevel: 'silent' })
  const byPackage = new Map()
  for (const [path, info] of Object.entries(meta.metafile.outputs[Object.keys(meta.metafile.outputs)[0]].inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
    const key = m ? m[1] : path.startsWith('src/') ? 'src/ (ours)' : path
    byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput)
  }
  const contributors = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
  return { ...neon, hyperdrive, contributors, embed: await measureEmbed() }
}
