import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
import { readEvents } from '../support/streams'
import { freePort } from './dev-server'

// What a person does: `DATABASE_URL=<database A> npm start`, stop it, then `npm start` (the demo
// database) in the same checkout — the same state directory, so the same local KV. Every answer of
// the second start, from the first moment its port answers, is about the demo database: never A's
// snapshot, which the local KV still holds.
const root = join(import.meta.dirname, '..', '..')
let pg: LocalPostgres
let stateDir: string

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE warehouse')
  pg.psql(
    `CREATE TABLE inventory (sku text PRIMARY KEY, qty integer NOT NULL);
     COMMENT ON TABLE inventory IS '库存';
     INSERT INTO inventory VALUES ('A-1', 3), ('B-2', 7);`,
    'warehouse',
  )
  stateDir = mkdtempSync(join(tmpdir(), 'txt2sql-state-'))
}, 60_000)

afterAll(() => {
  pg?.stop()
  if (stateDir) rmSync(stateDir, { recursive: true, force: true })
})

type Seen = { status: number; version: string | null }

/** `npm start`'s script with this environment and state directory; /healthz read every 100 ms from the start. */
async function start(env: Record<string, string | undefined>) {
  const port = await freePort()
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, PORT: String(port), WRANGLER_PERSIST_TO: stateDir, DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, DASHSCOPE_MODEL: undefined, API_KEYS: undefined, NEON_WS_PROXY: undefined, DATABASE_URL: undefined, DATABASE_URL_READONLY: undefined, ...env })) if (v !== undefined) clean[k] = v
  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts', 'dev.mjs')], { cwd: root, env: clean, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const url = `http://127.0.0.1:${port}`
  const seen: Seen[] = []
  const deadline = Date.now() + 85_000
  while (!/is ready on/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not get ready: ${out}`)
    const got = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
      async (res) => ({ status: res.status, version: ((await res.json()) as { schema_version: string | null }).schema_version }),
      () => null,
    )
    if (got) seen.push(got)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    seen,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      process.kill(-child.pid!, 'SIGTERM')
      await exited
    },
  }
}

async function versionOf(url: string): Promise<string> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { schema_version: string }).schema_version
}

describe('npm start on another database, in the same checkout', () => {
  it('never answers from the previous database\'s snapshot: every ready /healthz and every answer is the new database\'s', async () => {
    const first = await start({ DATABASE_URL: pg.url('postgres', 'postgres', 'warehouse') })
    const warehouse = await versionOf(first.url)
    const asked = await readEvents((await fetch(`${first.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '库存' }) })).body!)
    expect(asked[0]!.data.tables).toEqual(['inventory'])
    await first.stop()

    const second = await start({})
    const demo = await versionOf(second.url)
    expect(demo).not.toBe(warehouse)
    // From the first answer of its port to ready: a 503 while the demo is being read, never A's 200.
    expect(second.seen.length).toBeGreaterThan(0)
    for (const s of second.seen) {
      expect(s.version, JSON.stringify(second.seen)).not.toBe(warehouse)
      if (s.status === 200) expect(s.version).toBe(demo)
    }
    const events = await readEvents((await fetch(`${second.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) })).body!)
    expect(events[0]!.data.schema_version).toBe(demo)
    expect(events[0]!.data.tables).toContain('stations')
    expect(events[0]!.data.tables).not.toContain('inventory')
    await second.stop()
  }, 240_000)
})
