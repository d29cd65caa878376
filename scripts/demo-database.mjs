// The embedded demo business database for `npm start` without DATABASE_URL: PGlite (Postgres in
// WASM, no system install) loaded with db/demo/metro.sql and served over the Postgres wire
// protocol on loopback. Kept under .wrangler/ so examples and feedback survive restarts.
// PGlite has one session: tools/pglite-server/ gives each connection its turn and a clean
// session, as a Postgres server would, runs it as the role it logs in as, and ends a statement
// that runs too long (docs/DATABASE.md, "The demo database").
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startPgliteServer } from '../tools/pglite-server/server.mjs'
import { startPgliteProcess } from '../tools/pglite-server/pglite-process.mjs'
import { lockDirectory } from './dir-lock.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The demo's own operator settings, as a team would set theirs (PROMPT_HINTS): the code carries no
 * knowledge of the metro; `npm start` on the demo database sets these unless given.
 */
export const DEMO_SETTINGS = {
  PROMPT_HINTS: "站名按模糊匹配查找：问到某站（如“沈塘桥地铁站”）时用 name LIKE '%沈塘桥%'，不带“站”“地铁站”字样。",
}

/** Questions `npm start` suggests trying on the demo database (its start-up lines). */
export const DEMO_QUESTIONS = ['客流量最高的十个站点', '沈塘桥地铁站的信息']

/** The login the worker checks and runs model SQL as (db/demo/read-only-role.sql). */
export const READ_ONLY_ROLE = 'txt2sql_ro'

/**
 * @param {{ dataDir?: string, port?: number, maxWaiting?: number, statementTimeoutMs?: number, log?: (line: string) => void }} [options]
 *   dataDir: `memory://` for a throwaway database (a temporary directory, removed at close);
 *   maxWaiting: connections that may wait for their turn (DEMO_DB_MAX_WAITING, default 256)
 *   before more are refused (SQLSTATE 53300); statementTimeoutMs: how long one statement may run
 *   before the demo database ends it (SQLSTATE 57014) — `npm start` passes the worker's own
 *   statement timeouts (SQL_CHECK_TIMEOUT_MS, SQL_EXECUTE_TIMEOUT_MS)
 * @returns {Promise<{ url: string, readOnlyUrl: string, port: number, dataDir: string, pid: () => number | undefined, stats: () => object, close: () => Promise<void> }>}
 *   url: the superuser's (introspection, examples); readOnlyUrl: the read-only role's
 * @throws {import('./dir-lock.mjs').DirectoryInUse} when another process serves the same data directory
 */
export async function startDemoDatabase(options = {}) {
  const { dataDir = join(root, '.wrangler', 'demo-db'), port = 0, statementTimeoutMs = 10_000, log = () => {} } = options
  const maxWaiting = options.maxWaiting ?? (Number(process.env.DEMO_DB_MAX_WAITING) || 256)
  const throwaway = dataDir.startsWith('memory://')
  const dir = throwaway ? mkdtempSync(join(tmpdir(), 'txt2sql-demo-db-')) : dataDir
  mkdirSync(dir, { recursive: true })
  const lock = await lockDirectory(dir, { role: 'the demo database' })
  const cleanUp = async () => {
    await lock.release()
    if (throwaway) rmSync(dir, { recursive: true, force: true })
  }
  let db
  try {
    db = await startPgliteProcess({ dataDir: dir, messageTimeoutMs: statementTimeoutMs, log })
    const { rows } = await db.query("SELECT to_regclass('public.stations') IS NOT NULL AS loaded")
    if (!rows[0]?.loaded) {
      await db.exec(readFileSync(join(root, 'db', 'demo', 'metro.sql'), 'utf8'))
      log('[demo-db] loaded the demo metro database (db/demo/metro.sql)')
    }
    // Its approved examples (the example buttons of the page and the embed on the demo): into a
    // fresh database, and into one kept from before they existed — never again once the examples
    // table is there, so what an admin removed stays removed.
    const { rows: examples } = await db.query("SELECT to_regclass('public.txt2sql_examples') IS NULL AS missing")
    if (examples[0]?.missing) {
      await db.exec(readFileSync(join(root, 'db', 'demo', 'examples.sql'), 'utf8'))
      log('[demo-db] added the demo\'s approved examples (db/demo/examples.sql)')
    }
    await db.exec(readFileSync(join(root, 'db', 'demo', 'read-only-role.sql'), 'utf8'))
    // What the demo database enforces (the process's limit), stated where a session can see it.
    await db.exec(`ALTER ROLE ${READ_ONLY_ROLE} SET statement_timeout = ${Math.trunc(statementTimeoutMs)}`)
    const server = await startPgliteServer({ db, host: '127.0.0.1', port, maxWaiting, log })
    const started = db
    return {
      url: `postgres://postgres:postgres@127.0.0.1:${server.port}/postgres`,
      readOnlyUrl: `postgres://${READ_ONLY_ROLE}@127.0.0.1:${server.port}/postgres`,
      port: server.port,
      dataDir: dir,
      stats: () => ({ ...server.stats(), restarts: started.restarts() }),
      /** The PGlite process serving now (it is replaced after a statement timeout). */
      pid: () => started.pid(),
      close: async () => {
        await server.close()
        await started.close()
        await cleanUp()
      },
    }
  } catch (err) {
    await db?.close()
    await cleanUp()
    throw err
  }
}

export const demoDataDirExists = (dir = join(root, '.wrangler', 'demo-db')) => existsSync(join(dir, 'PG_VERSION'))
