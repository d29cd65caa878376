// How the worker reaches its database under `npm start` — the one place that decides it:
// - no DATABASE_URL: the embedded demo database (scripts/demo-database.mjs), with its read-only
//   role as DATABASE_URL_READONLY and runs allowed (SQL_EXECUTE=true) unless set otherwise;
// - a DATABASE_URL on this machine (127.0.0.1/localhost): a WebSocket relay for the Neon driver
//   (NEON_WS_PROXY); a Neon URL is used as it is.
import { join } from 'node:path'
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
import { startDemoDatabase } from '../demo-database.mjs'

/**
 * @param {{ vars: Record<string, string>, config: { sql: { checkTimeoutMs: number, executeTimeoutMs: number } }, stateDir: string, log: (line: string) => void }} options
 *   vars: the settings given (never changed here); config: the worker's reading of them
 * @returns {Promise<{ vars: Record<string, string>, close: () => Promise<void> }>} the settings to add
 */
export async function startDevDatabase({ vars, config, stateDir, log }) {
  const added = {}
  const running = []
  const close = async () => {
    await Promise.allSettled(running.map((r) => r.close()))
  }
  try {
    if (!vars.DATABASE_URL) {
      const demo = await startDemoDatabase({
        dataDir: process.env.DEMO_DB_DIR || join(stateDir, 'demo-db'),
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
      log(`[dev] no DATABASE_URL: using the embedded demo database (PGlite on 127.0.0.1:${demo.port}); model SQL is checked and run as its read-only role txt2sql_ro${added.SQL_EXECUTE === 'true' ? '' : ' (runs are off: SQL_EXECUTE)'}`)
    }
    const url = vars.DATABASE_URL ?? added.DATABASE_URL
    if (!vars.NEON_WS_PROXY && isLocal(url)) {
      const relay = await startWsRelay({ port: Number(process.env.WS_RELAY_PORT || 0), log })
      running.push(relay)
      added.NEON_WS_PROXY = relay.proxy
      log(`[dev] local database: the Neon driver goes through the WebSocket relay at ${relay.proxy}`)
    }
    return { vars: added, close }
  } catch (err) {
    await close()
    throw err
  }
}

function isLocal(url) {
  try {
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(new URL(url).hostname)
  } catch {
    return false
  }
}
