// Runs a built Worker — what `wrangler deploy --dry-run --outdir` wrote, i.e. what a deploy
// uploads — in workerd through the Miniflare that wrangler itself uses, with the bindings of the
// configuration it was built from (wrangler.toml, or the Hyperdrive way's derived one): its vars,
// KV (in memory), Durable Object, rate limiter, static assets and Hyperdrive bindings. Used by the
// tests of the deploy artefact and by the benchmarks; no wrangler dev proxy in between.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { localConnectionVariable } from './database-route.mjs'

/**
 * @param {{ root: string, outdir: string, config?: string, bindings?: Record<string, string>, hyperdriveOrigins?: Record<string, string>, inspectorPort?: number }} options
 *   `bindings`: settings and secrets laid over the configuration's vars (as `wrangler secret put` would);
 *   `hyperdriveOrigins`: the Postgres each Hyperdrive binding of the configuration connects to, as
 *   wrangler dev takes it from CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_<BINDING>
 * @returns {Promise<{ url: string, scheduled: (cron?: string) => Promise<void>, dispose: () => Promise<void> }>}
 */
export async function startBuiltWorker({ root, outdir, config = join(root, 'wrangler.toml'), bindings = {}, hyperdriveOrigins = {}, inspectorPort }) {
  // wrangler's own Miniflare (5.x, its dependency), so the runtime is the one wrangler dev runs.
  const { Miniflare, convertV4MiniflareOptions } = await import(join(root, 'node_modules/wrangler/node_modules/miniflare/dist/src/index.js'))
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler')
  const script = readdirSync(outdir).find((f) => f.endsWith('.js'))
  // The configuration's compatibility settings, vars, bindings and Cron Trigger. wrangler 4.164
  // still hands them out in Miniflare 4's flat shape and converts them itself before
  // `new Miniflare` (convertV4MiniflareOptions); we do the same, then work in Miniflare 5's shape:
  // per worker `{ config: { name, compatibilityDate, manifest, env, triggers, … }, dev: { … } }`.
  const { workerOptions } = withEnvironment(
    Object.fromEntries(Object.entries(hyperdriveOrigins).map(([binding, url]) => [localConnectionVariable(binding), url])),
    () => unstable_getMiniflareWorkerOptions(config),
  )
  const [{ config: worker, dev, legacy }] = convertV4MiniflareOptions({ ...workerOptions, name: 'txt2sql-edge', modules: [{ type: 'ESModule', path: join(outdir, script) }, ...wasmModules(outdir)], modulesRoot: outdir }).workers
  const secret = (value) => ({ type: 'text', value })
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    unsafeTriggerHandlers: true,
    // Nothing of this worker belongs in the machine-wide registry other dev servers read.
    enableDevRegistry: false,
    workers: [{
      config: {
        ...worker,
        // Named before the conversion: the Durable Object binding (USAGE) names its script from it.
        env: { ...worker.env, ...Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, secret(String(v))])) },
      },
      ...(dev ? { dev } : {}),
      ...(legacy ? { legacy } : {}),
    }],
  })
  const url = (await mf.ready).origin
  return {
    url,
    // Miniflare 5 moved the trigger from /cdn-cgi/handler/scheduled to /cdn-cgi/local/scheduled.
    scheduled: async (cron = '17 * * * *') => {
      await (await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`)).arrayBuffer()
    },
    dispose: () => mf.dispose(),
  }
}

/** wrangler reads the local connection strings from the process environment only. */
function withEnvironment(vars, work) {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  Object.assign(process.env, vars)
  try {
    return work()
  } finally {
    for (const [k, v] of Object.entries(before)) v === undefined ? delete process.env[k] : (process.env[k] = v)
  }
}

/** The WebAssembly modules wrangler writes beside the script (Postgres's parser, src/sql/admission): uploaded as modules of their own. */
function wasmModules(outdir) {
  return readdirSync(outdir).filter((f) => f.endsWith('.wasm')).map((f) => ({ type: 'CompiledWasm', path: join(outdir, f) }))
}
