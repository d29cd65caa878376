// The same worker, in process through Miniflare's API instead of `wrangler dev`: the deployable
// bundle (`wrangler deploy --dry-run`, the P7 artefact) run by the Miniflare that wrangler itself
// uses, with wrangler.toml's bindings (unstable_getMiniflareWorkerOptions), a fresh in-memory KV,
// the fake DashScope and the embedded demo database exactly as `npm start` wires them. workerd is
// still the runtime (a child of this process); what is left out is wrangler dev's proxy layer.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
import { startDemoDatabase } from '../../scripts/demo-database.mjs'
import { buildWorker } from '../../scripts/bundle-size.mjs'
import { startBuiltWorker } from '../../scripts/run-built-worker.mjs'
import { BENCH_KEY } from './service.mjs'
import { startPassthrough } from './passthrough-worker.mjs'

/** Builds the bundle once per process; every phase reuses it. BENCH_NO_MINIFY=1 keeps function
 * names readable in a CPU profile (bench/profile.mjs). */
let bundleDir
function bundle() {
  if (bundleDir) return bundleDir
  bundleDir = buildWorker({ root: process.cwd(), outdir: mkdtempSync(join(tmpdir(), 'txt2sql-mf-')), minify: !process.env.BENCH_NO_MINIFY })
  process.once('exit', () => rmSync(bundleDir, { recursive: true, force: true }))
  return bundleDir
}

/**
 * Also starts a bare pass-through Worker in front of the same fake (`passthrough`): the platform's
 * floor for P1 and P5. `inspectorPort` opens the DevTools protocol for bench/profile.mjs;
 * `bindings` add or override the worker's settings (e.g. DASHSCOPE_PROTOCOL).
 */
export async function startMiniflareService({ inspectorPort, bindings = {} } = {}) {
  const fake = await startFakeDashScope({ apiKey: BENCH_KEY })
  const db = await startDemoDatabase({ dataDir: 'memory://' })
  const relay = await startWsRelay({ port: 0 })
  const worker = await startBuiltWorker({
    root: process.cwd(),
    outdir: bundle(),
    inspectorPort,
    bindings: { DASHSCOPE_API_KEY: BENCH_KEY, DASHSCOPE_BASE_URL: fake.url, DATABASE_URL: db.url, NEON_WS_PROXY: relay.proxy, ...bindings },
  })
  const url = worker.url
  // As `npm start` does: the Cron Trigger's refresh fills the schema cache from the demo database.
  await worker.scheduled()
  const health = await (await fetch(`${url}/healthz`)).json()
  if (!health.schema_version) throw new Error(`miniflare: the schema refresh did not fill the cache: ${JSON.stringify(health)}`)
  const passthrough = await startPassthrough(fake.url)
  return {
    fake,
    worker: { url, pid: process.pid },
    passthrough,
    stop: async () => {
      await Promise.allSettled([worker.dispose(), passthrough.stop()])
      await Promise.allSettled([fake.close(), relay.close(), db.close()])
    },
  }
}
