// The same worker, in process through Miniflare's API instead of `wrangler dev`: the deployable
// bundle (`wrangler deploy --dry-run`, the P7 artefact) run by the Miniflare that wrangler itself
// uses, with wrangler.toml's bindings (unstable_getMiniflareWorkerOptions), a fresh in-memory KV,
// the fake DashScope and the embedded demo database exactly as `npm start` wires them. workerd is
// still the runtime (a child of this process); what is left out is wrangler dev's proxy layer.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
import { startDemoDatabase } from '../../scripts/demo-database.mjs'
import { BENCH_KEY } from './service.mjs'
import { startPassthrough } from './passthrough-worker.mjs'

const CRON = '17 * * * *'

/** Builds the bundle once per process; every phase reuses it. BENCH_NO_MINIFY=1 keeps function
 * names readable in a CPU profile (bench/profile.mjs). */
let bundleDir
function bundle() {
  if (bundleDir) return bundleDir
  bundleDir = mkdtempSync(join(tmpdir(), 'txt2sql-mf-'))
  execFileSync(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', bundleDir, ...(process.env.BENCH_NO_MINIFY ? ['--minify=false'] : [])], { stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } })
  process.once('exit', () => rmSync(bundleDir, { recursive: true, force: true }))
  return bundleDir
}

/**
 * Also starts a bare pass-through Worker in front of the same fake (`passthrough`): the platform's
 * floor for P1 and P5. `inspectorPort` opens the DevTools protocol for bench/profile.mjs;
 * `bindings` add or override the worker's settings (e.g. DASHSCOPE_PROTOCOL).
 */
export async function startMiniflareService({ inspectorPort, bindings = {} } = {}) {
  // wrangler's own Miniflare (5.x, its dependency), so the runtime is the one wrangler dev runs.
  const { Miniflare, convertV4MiniflareOptions } = await import('../../node_modules/wrangler/node_modules/miniflare/dist/src/index.js')
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler')
  const dir = bundle()
  const script = readdirSync(dir).find((f) => f.endsWith('.js'))
  const fake = await startFakeDashScope({ apiKey: BENCH_KEY })
  const db = await startDemoDatabase({ dataDir: 'memory://' })
  const relay = await startWsRelay({ port: 0 })
  // wrangler.toml's compatibility settings, vars, KV namespace and Cron Trigger. wrangler 4.164
  // still hands them out in Miniflare 4's flat shape and converts them itself before
  // `new Miniflare` (convertV4MiniflareOptions); we do the same, then work in Miniflare 5's shape:
  // per worker `{ config: { name, compatibilityDate, manifest, env, triggers, … }, dev: { … } }`.
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml')
  const [{ config, dev, legacy }] = convertV4MiniflareOptions({ ...workerOptions, name: 'txt2sql-edge', modules: [{ type: 'ESModule', path: join(dir, script) }], modulesRoot: dir }).workers
  const secret = (value) => ({ type: 'text', value })
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    unsafeTriggerHandlers: true,
    // Nothing of this benchmark's worker belongs in the machine-wide registry other dev servers read.
    enableDevRegistry: false,
    workers: [{
      config: {
        ...config,
        // Named before the conversion: the Durable Object binding (USAGE) names its script from it.
        env: {
          ...config.env,
          DASHSCOPE_API_KEY: secret(BENCH_KEY),
          DASHSCOPE_BASE_URL: secret(fake.url),
          DATABASE_URL: secret(db.url),
          NEON_WS_PROXY: secret(relay.proxy),
          ...Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, secret(String(v))])),
        },
      },
      ...(dev ? { dev } : {}),
      ...(legacy ? { legacy } : {}),
    }],
  })
  const url = (await mf.ready).origin
  // As `npm start` does: the Cron Trigger's refresh fills the schema cache from the demo database
  // (Miniflare 5 moved the trigger from /cdn-cgi/handler/scheduled to /cdn-cgi/local/scheduled).
  await (await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(CRON)}`)).arrayBuffer()
  const health = await (await fetch(`${url}/healthz`)).json()
  if (!health.schema_version) throw new Error(`miniflare: the schema refresh did not fill the cache: ${JSON.stringify(health)}`)
  const passthrough = await startPassthrough(fake.url)
  return {
    fake,
    worker: { url, pid: process.pid },
    passthrough,
    stop: async () => {
      await Promise.allSettled([mf.dispose(), passthrough.stop()])
      await Promise.allSettled([fake.close(), relay.close(), db.close()])
    },
  }
}
