// P7 (cold start): what the MCP server costs every cold start. The deployable bundle is built three
// ways from the same sources — as deployed (the MCP server behind `import()`, loaded on the first
// /mcp call), with the MCP server imported at start-up (what a plain import would cost), and without
// the MCP SDK (aliased to a stand-in; our MCP module and the full zod its tool schemas use stay, unevaluated) — and each is started fresh in workerd
// (the Miniflare wrangler uses) until its first answer, interleaved, many times: the median of
// "start to first answer" per build, and each build's gzip size.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { buildWorker, measureBundle } from '../scripts/bundle-size.mjs'
import { startBuiltWorker } from '../scripts/run-built-worker.mjs'
import { fmt, spread, summary } from './lib/stats.mjs'

const root = process.cwd()

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
  // The MCP SDK left out: its two imports answered by stand-ins that refuse (/mcp then fails; the bench never calls it).
  writeFileSync(join(scratch, 'no-mcp-sdk.ts'), "const absent = () => { throw new Error('built without the MCP SDK') }\nexport const createMcpHandler = absent\nexport class McpServer { constructor() { absent() } }\n")
  // Postgres's parser left out (issue 30: the gate's WASM, ~340 KiB gzip): the bundle as it was before the gate.
  writeFileSync(join(scratch, 'no-parser.js'), "export default async function absent() { throw new Error('built without the SQL parser') }\n")
  writeFileSync(join(scratch, 'no-parser-wasm.js'), 'export default new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])\n')
  const configs = {
    deployed: undefined,
    'without the parser': derivedConfig('no-parser', { alias: { 'libpg-query/wasm/libpg-query.js': './.wrangler/bench-cold-start/no-parser.js', 'libpg-query/wasm/libpg-query.wasm': './.wrangler/bench-cold-start/no-parser-wasm.js' } }),
    eager: derivedConfig('eager', { main: '.wrangler/bench-cold-start/eager-entry.ts' }),
    'without MCP': derivedConfig('no-mcp', { alias: { '@modelcontextprotocol/server': './.wrangler/bench-cold-start/no-mcp-sdk.ts' } }),
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
    return Object.fromEntries(Object.entries(builds).map(([name, b]) => [name, { gzipBytes: b.size.gzipBytes, start: summary(b.times) }]))
  } finally {
    for (const b of Object.values(builds)) rmSync(b.outdir, { recursive: true, force: true })
    for (const c of Object.values(configs)) if (c) rmSync(c, { force: true })
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** The row of BENCHMARKS.md's table. */
export function coldStartRow(r) {
  const kib = (b) => `${fmt(b.gzipBytes / 1024, 1)} KiB gzip`
  const deployed = r.deployed
  const eager = r.eager
  const bare = r['without MCP']
  return [
    'P7 (cold start)',
    'start to first answer (`GET /healthz`) of a fresh workerd (Miniflare) per build, the builds interleaved (bench/p7-cold-start.mjs): as deployed (the MCP server behind `import()`), the MCP server imported at start-up, the MCP SDK left out',
    `deployed (${kib(deployed)}) ${spread(deployed.start)}; MCP at start-up (${kib(eager)}) ${spread(eager.start)}; without the MCP SDK (${kib(bare)}) ${spread(bare.start)}`,
    `deployed − without the SDK p50 ${fmt(deployed.start.p50 - bare.start.p50)} ms; at start-up − without p50 ${fmt(eager.start.p50 - bare.start.p50)} ms`,
    'behind `import()`, under half the start-up cost of importing the MCP server eagerly (size: the 1 MiB ceiling, P7)',
    verdict(deployed.start.p50 - bare.start.p50 < (eager.start.p50 - bare.start.p50) / 2),
  ]
}
const verdict = (ok) => (ok ? 'met' : '**missed**')

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureColdStart({ rounds: Number(process.argv[2] || 9) })
  for (const [name, r] of Object.entries(result)) console.log(`${name}: ${(r.gzipBytes / 1024).toFixed(1)} KiB gzip (${r.gzipBytes} bytes); start to first answer ${spread(r.start)}`)
}
