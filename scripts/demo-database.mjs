// The embedded demo business database for `npm start` without DATABASE_URL: PGlite (Postgres in
// WASM, no system install) loaded with db/demo/metro.sql and served over the Postgres wire
// protocol on loopback. Kept under .wrangler/ so examples and feedback survive restarts.
// PGlite has one session: tools/pglite-server/ gives each connection its turn and a clean
// session, as a Postgres server would (docs/DATABASE.md, "The demo database").
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { startPgliteServer } from '../tools/pglite-server/server.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * @param {{ dataDir?: string, port?: number, maxWaiting?: number, log?: (line: string) => void }} [options]
 *   dataDir `memory://` for a throwaway database; maxWaiting: connections that may wait for their
 *   turn (DEMO_DB_MAX_WAITING, default 256) before more are refused (SQLSTATE 53300)
 * @returns {Promise<{ url: string, port: number, db: PGlite, stats: () => object, close: () => Promise<void> }>}
 */
export async function startDemoDatabase(options = {}) {
  const { dataDir = join(root, '.wrangler', 'demo-db'), port = 0, log = () => {} } = options
  const maxWaiting = options.maxWaiting ?? (Number(process.env.DEMO_DB_MAX_WAITING) || 256)
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true })
  const db = await PGlite.create(dataDir.startsWith('memory://') ? undefined : dataDir)
  const { rows } = await db.query("SELECT to_regclass('public.stations') IS NOT NULL AS loaded")
  if (!rows[0]?.loaded) {
    await db.exec(readFileSync(join(root, 'db', 'demo', 'metro.sql'), 'utf8'))
    log('[demo-db] loaded the demo metro database (db/demo/metro.sql)')
  }
  const server = await startPgliteServer({ db, host: '127.0.0.1', port, maxWaiting, log })
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${server.port}/postgres`,
    port: server.port,
    db,
    stats: server.stats,
    close: async () => {
      await server.close()
      await db.close()
    },
  }
}

export const demoDataDirExists = (dir = join(root, '.wrangler', 'demo-db')) => existsSync(join(dir, 'PG_VERSION'))
