// P7 (cold start): what the MCP server costs every cold start. The deployable bundle is built three
// ways from the same sources — as deployed (the MCP server behind `import()`, loaded on the first
// /mcp call), with the MCP server imported at start-up (what a plain import would cost), and without
// the MCP SDK at all (aliased out, the size of the API alone) — and each is started fresh in workerd
// (the Miniflare wrangler uses) until its first answer, interleaved, many times: the median of
// "start to first answer" per build, and each build's gzip size.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { readFileSync } from 'node:fs'
import { buildWorker, measureBundle } from '../scripts/bundle-size.mjs'
import { startBuiltWorker } from '../scripts/run-built-worker.mjs'

const root = process.cwd()
const LEFT_OUT = './src/db/drivers/not-in-this-build.ts'

/** wrangler.toml with `main` and `alias` changed, written beside it so its relative paths hold. */
function derivedConfig(name, { main, alias = {} }) {
  const config = parse(readFileSync(join(root, 'wrangler.toml'), 'utf8'))
  const path = join(root, `.wrangler-bench.${name}.jsonc`)
  writeFileSync(path, JSON.stringify({ ...config, ...(main ? { main } : {}), alias: { ...(config.alias ?? {}), ...alias } }, null, 2))
  return path
}

export async function measureColdStart({ rounds = 9 } = {}) {
  const scratch = join(root, '.wrangler', 'bench-cold-start')
  mkdirSync(scratch, { recursive: true })
  // The MCP module imported at start-up: an entry that imports it statically beside the Worker.
  const eagerEntry = join(scratch, 'eager-entry.ts')
  writeFileSync(eagerEntry, "import '../../src/mcp/mcp-server'\nexport * from '../../src/index'\nexport { default } from '../../src/index'\n")
  const configs = {
    deployed: undefined,
    eager: derivedConfig('eager', { main: '.wrangler/bench-cold-start/eager-entry.ts' }),
    'without MCP': derivedConfig('no-mcp', { alias: { '@modelcontextprotocol/server': LEFT_OUT } }),
  }
  const builds = {}
  try {
    for (const [name, config] of Object.entries(configs)) {
      const outdir = mkdtempSync(join(tmpdir(), 'txt2sql-cold-'))
      buildWorker({ root, outdir, config })
      builds[name] = { outdir, config, size: measureBundle(outdir), times: [] }
    }
    for (let round = 0; round < rounds; round++) {
      for (const build of Object.values(builds)) {
        const started = performance.now()
        const worker = await startBuiltWorker({ root, outdir: build.outdir, ...(build.config ? { config: build.config } : {}) })
        const res = await fetch(`${worker.url}/healthz`)
        await res.arrayBuffer()
        build.times.push(performance.now() - started)
        await worker.dispose()
      }
    }
    return Object.fromEntries(Object.entries(builds).map(([name, b]) => [name, { gzipBytes: b.size.gzipBytes, coldStartMs: median(b.times), spread: [quantile(b.times, 0.1), quantile(b.times, 0.9)] }]))
  } finally {
    for (const b of Object.values(builds)) rmSync(b.outdir, { recursive: true, force: true })
    for (const c of Object.values(configs)) if (c) rmSync(c, { force: true })
    rmSync(scratch, { recursive: true, force: true })
  }
}

const median = (xs) => quantile(xs, 0.5)
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureColdStart({ rounds: Number(process.argv[2] || 9) })
  for (const [name, r] of Object.entries(result)) {
    console.log(`${name}: ${(r.gzipBytes / 1024).toFixed(1)} KiB gzip (${r.gzipBytes} bytes); start to first answer p50 ${r.coldStartMs.toFixed(1)} ms (p10–p90 ${r.spread[0].toFixed(1)}–${r.spread[1].toFixed(1)})`)
  }
}
