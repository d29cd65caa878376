// The embedded demo business database for `npm start` without DATABASE_URL: PGlite (Postgres in
// WASM, no system install) loaded with db/demo/metro.sql and served over the Postgres wire
// protocol on loopback. Kept under .wrangler/ so examples and feedback survive restarts.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * @param {{ dataDir?: string, port?: number, log?: (line: string) => void }} [options] dataDir
 *   `memory://` for a throwaway database.
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function startDemoDatabase(options = {}) {
  const { dataDir = join(root, '.wrangler', 'demo-db'), port = 0, log = () => {} } = options
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true })
  const db = await PGlite.create(dataDir.startsWith('memory://') ? undefined : dataDir)
  const { rows } = await db.query("SELECT to_regclass('public.stations') IS NOT NULL AS loaded")
  if (!rows[0]?.loaded) {
    await db.exec(readFileSync(join(root, 'db', 'demo', 'metro.sql'), 'utf8'))
    log('[demo-db] loaded the demo metro database (db/demo/metro.sql)')
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 8, inspect: !!process.env.DEMO_DB_INSPECT })
  await server.start()
  const actual = Number(String(server.getServerConn?.() ?? '').split(':').pop()) || port
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${actual}/postgres`,
    port: actual,
    close: async () => {
      await server.stop()
      await db.close()
    },
  }
}

export const demoDataDirExists = (dir = join(root, '.wrangler', 'demo-db')) => existsSync(join(dir, 'PG_VERSION'))
