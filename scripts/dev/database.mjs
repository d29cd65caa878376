// How the worker reaches its database under `npm start` — the one place that starts what the way
// needs (the way itself is chosen by scripts/database-route.mjs, which `npm run deploy` shares):
// - demo: no DATABASE_URL — the embedded demo database (scripts/demo-database.mjs), with its
//   read-only role as DATABASE_URL_READONLY and runs allowed (SQL_EXECUTE=true) unless set
//   otherwise, reached like any local Postgres;
// - relay: a DATABASE_URL on this machine — a WebSocket relay for the Neon driver (NEON_WS_PROXY);
// - neon: a Neon URL (or NEON_WS_PROXY given) — used as it is;
// - hyperdrive: any other Postgres, or CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE —
//   node-postgres through a HYPERDRIVE binding that wrangler dev connects straight to it, added by
//   a configuration derived from wrangler.toml (which cannot carry a binding without an id).
import { join } from 'node:path'
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
import { chooseDatabaseRoute, localConnectionVariable, localHyperdrives, redact, writeDerivedConfig } from '../database-route.mjs'
import { DEMO_QUESTIONS, DEMO_SETTINGS, startDemoDatabase } from '../demo-database.mjs'

/**
 * @typedef {{
 *   vars: Record<string, string | undefined>,
 *   wranglerArgs: string[],
 *   wranglerEnv: Record<string, string>,
 *   description: string,
 *   questions: string[],
 *   close: () => Promise<void>,
 * }} DevDatabase
 *   vars: the settings to lay over the given ones (undefined: remove it); wranglerArgs/Env: what
 *   wrangler dev is run with besides; description: the start banner's line on the way taken;
 *   questions: what the start-up lines suggest asking (the demo's; none for a database of yours)
 */

/**
 * @param {{ root: string, vars: Record<string, string>, env: Record<string, string | undefined>, config: { sql: { checkTimeoutMs: number, executeTimeoutMs: number } }, stateDir: string, log: (line: string) => void }} options
 *   vars: the settings given (never changed here); env: the process environment (wrangler's own
 *   variables); config: the worker's reading of the settings
 * @returns {Promise<DevDatabase>}
 */
export async function startDevDatabase({ root, vars, env, config, stateDir, log }) {
  const route = chooseDatabaseRoute(vars, env)
  if (route.way === 'neon') return { vars: {}, wranglerArgs: [], wranglerEnv: {}, description: `the Neon driver to ${redact(route.url)}`, questions: [], close: async () => {} }
  if (route.way === 'hyperdrive') {
    const bindings = Object.keys(route.connections)
    const derived = writeDerivedConfig(root, '.wrangler-dev.hyperdrive.jsonc', localHyperdrives(bindings), 'npm start (scripts/dev/database.mjs)')
    const [main, readonly] = bindings
    return {
      // The worker reads the bindings only; it holds no connection string it does not use.
      vars: { DATABASE_URL: undefined, DATABASE_URL_READONLY: undefined, NEON_WS_PROXY: undefined },
      wranglerArgs: ['--config', derived],
      // wrangler's own variables, in its environment only: never in a file, never on a command line.
      wranglerEnv: Object.fromEntries(Object.entries(route.connections).map(([binding, url]) => [localConnectionVariable(binding), url])),
      description:
        `node-postgres through the Hyperdrive binding ${main}, which wrangler dev connects straight to ${redact(route.connections[main])}` +
        (readonly ? `, the read-only role through ${readonly} to ${redact(route.connections[readonly])}` : '') +
        ' (no WebSocket relay)',
      questions: [],
      close: async () => {},
    }
  }
  const added = {}
  const running = []
  const close = async () => {
    await Promise.allSettled(running.map((r) => r.close()))
  }
  try {
    let what = redact(route.url ?? '')
    if (route.way === 'demo') {
      const demo = await startDemoDatabase({
        dataDir: env.DEMO_DB_DIR || join(stateDir, 'demo-db'),
        // The longest statement the worker itself allows: PGlite cannot enforce statement_timeout.
        statementTimeoutMs: Math.max(config.sql.checkTimeoutMs, config.sql.executeTimeoutMs),
        log,
      })
      running.push(demo)
      added.DATABASE_URL = demo.url
      added.DATABASE_URL_READONLY = vars.DATABASE_URL_READONLY ?? demo.readOnlyUrl
      // Rows on the defaults: the demo's read-only role meets docs/SECURITY.md's rules. Production
      // keeps SQL_EXECUTE=false (wrangler.toml); a SQL_EXECUTE given here wins.
      added.SQL_EXECUTE = vars.SQL_EXECUTE ?? 'true'
      for (const [name, value] of Object.entries(DEMO_SETTINGS)) added[name] = vars[name] ?? value
      what = `the embedded demo database (PGlite on 127.0.0.1:${demo.port}), model SQL checked and run as its read-only role txt2sql_ro${added.SQL_EXECUTE === 'true' ? '' : ' (runs are off: SQL_EXECUTE)'}`
    }
    const relay = await startWsRelay({ port: Number(env.WS_RELAY_PORT || 0), log })
    running.push(relay)
    added.NEON_WS_PROXY = relay.proxy
    const questions = route.way === 'demo' ? DEMO_QUESTIONS : []
    return { vars: added, wranglerArgs: [], wranglerEnv: {}, description: `${what}, through the WebSocket relay the Neon driver needs at ${relay.proxy}`, questions, close }
  } catch (err) {
    await close()
    throw err
  }
}
