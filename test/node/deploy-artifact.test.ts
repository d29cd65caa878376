import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { BUNDLE_CEILING_BYTES, describeSize, measureBundle } from '../../scripts/bundle-size.mjs'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { startBuiltWorker } from '../../scripts/run-built-worker.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
import { readEvents, type ParsedEvent } from '../support/streams'

// What a deploy uploads, tested as such: `npm run deploy -- --dry-run --outdir DIR` builds it with no
// account and no edits to a fresh clone, its size is held to the budget, and the smoke — a question
// answered with SQL checked (and run) by a real Postgres, the old client's route, the page — runs
// against that very bundle in workerd (Miniflare, with the bindings of the configuration it was
// built from), for the default build (the Neon driver) and the Hyperdrive build (node-postgres).
const root = join(import.meta.dirname, '..', '..')
const DERIVED = join(root, '.wrangler-deploy.hyperdrive.jsonc')
const KEY = 'artifact-key'

let pg: LocalPostgres
let fake: { url: string; close: () => Promise<void> }
let relay: { proxy: string; close: () => Promise<void> }

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE company')
  pg.psql(readFileSync(join(root, 'db/demo/metro.sql'), 'utf8'), 'company')
  pg.psql(readFileSync(join(root, 'test/fixtures/db/guard.sql'), 'utf8'), 'company')
  fake = await startFakeDashScope({ apiKey: KEY })
  relay = await startWsRelay({ port: 0 })
}, 60_000)

afterAll(async () => {
  await Promise.allSettled([fake?.close(), relay?.close()])
  pg?.stop()
  rmSync(DERIVED, { force: true })
})

/** `npm run deploy -- --dry-run --outdir DIR [--hyperdrive]`, as a user runs it. */
function dryRun(extra: string[]): { dir: string; code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-artifact-'))
  const env: Record<string, string | undefined> = { ...process.env, WRANGLER_SEND_METRICS: 'false' }
  for (const k of ['DATABASE_URL', 'DATABASE_URL_READONLY', 'CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE']) delete env[k]
  const r = spawnSync(process.execPath, [join(root, 'scripts/deploy.mjs'), '--dry-run', '--outdir', dir, ...extra], { cwd: root, env, encoding: 'utf8' })
  return { dir, code: r.status, out: r.stdout + r.stderr }
}

const post = (url: string, path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
const data = (events: ParsedEvent[], name: string) => events.find((e) => e.event === name)?.data

/** The smoke every build must pass, in sequence on one worker: what a first user does. */
function smoke(worker: () => { url: string; scheduled: () => Promise<void> }) {
  it('fills its schema cache from the database at the Cron Trigger and turns ready', async () => {
    await worker().scheduled()
    const health = await (await fetch(`${worker().url}/healthz`)).json()
    expect(health).toMatchObject({ ok: true, schema_version: expect.stringMatching(/^pg-/), execute: true })
  })

  it('answers a question with SQL checked by Postgres, then runs it read-only, a second time too', async () => {
    for (let i = 0; i < 2; i++) {
      const events = await readEvents((await post(worker().url, '/v1/ask', { question: '沈塘桥地铁站的信息', execute: true })).body!)
      expect(data(events, 'sql')).toMatchObject({ sql: expect.stringContaining('沈塘桥'), ok: true, checked: true })
      expect(data(events, 'result')).toMatchObject({ ok: true, row_count: 1 })
      expect(events.at(-1)!.event).toBe('done')
    }
  })

  it("keeps the old client's route: /getAnwser streams the answer as text", async () => {
    const res = await post(worker().url, '/getAnwser', { question: '沈塘桥地铁站的信息' })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('```sql')
    expect(text).toContain('沈塘桥')
  })

  it('serves the page and the API description', async () => {
    const page = await fetch(`${worker().url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toContain('<script type="module"')
    const openapi = await fetch(`${worker().url}/openapi.json`)
    expect(openapi.status).toBe(200)
    expect((await openapi.json()).openapi).toMatch(/^3\.1/)
  })
}

describe('wrangler.toml needs no edit before a deploy', () => {
  it('carries no placeholder and no id to paste: the KV namespace is provisioned by wrangler', () => {
    const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    expect(toml).not.toMatch(/REPLACE|<[a-z-]*id[a-z-]*>|YOUR_/i)
    expect(toml).toMatch(/\[\[kv_namespaces\]\]\nbinding = "SCHEMA_KV"\n(?!id)/)
    expect(toml).toMatch(/\[observability\]\nenabled = true/)
  })
})

/**
 * Builds as `npm run deploy -- --dry-run [extra]` does, runs that bundle in workerd with `options`
 * (the worker's settings, and the configuration it was built from), and checks what it carries.
 */
function deployableBuild(extra: string[], way: string, options: () => Omit<Parameters<typeof startBuiltWorker>[0], 'root' | 'outdir'>, carries: { driver: string; not: string }) {
  let built: ReturnType<typeof dryRun>
  let worker: Awaited<ReturnType<typeof startBuiltWorker>>
  beforeAll(async () => {
    built = dryRun(extra)
    worker = await startBuiltWorker({ root, outdir: built.dir, ...options() })
  }, 120_000)
  afterAll(async () => {
    await worker?.dispose()
    rmSync(built?.dir, { recursive: true, force: true })
  })

  it('builds with no account, within the ceiling P7 accepts, carrying its driver and not the other', () => {
    expect(built.code, built.out).toBe(0)
    expect(built.out).toContain(`the ${way} way`)
    const size = measureBundle(built.dir)
    expect(size.gzipBytes).toBeLessThanOrEqual(BUNDLE_CEILING_BYTES)
    expect(built.out).toContain(describeSize(size))
    const bundle = readFileSync(join(built.dir, 'index.js'), 'utf8')
    expect(bundle).toContain(carries.driver)
    expect(bundle).not.toContain(carries.not)
  })

  smoke(() => worker)
}

// Markers: the Neon driver's own option name; node-postgres's socket module.
const NEON = 'webSocketConstructor'
const NODE_POSTGRES = 'cloudflare:sockets'

describe('the default build (the Neon driver), as npm run deploy -- --dry-run builds it', () => {
  deployableBuild([], 'Neon', () => ({
    bindings: { DASHSCOPE_API_KEY: KEY, DASHSCOPE_BASE_URL: fake.url, DATABASE_URL: pg.url('postgres', 'postgres', 'company'), DATABASE_URL_READONLY: pg.url('txt2sql_ro', 'ro-pw', 'company'), NEON_WS_PROXY: relay.proxy, SQL_EXECUTE: 'true' },
  }), { driver: NEON, not: NODE_POSTGRES })
})

describe('the Hyperdrive build (node-postgres), as npm run deploy -- --dry-run --hyperdrive builds it', () => {
  deployableBuild(['--hyperdrive'], 'Hyperdrive', () => ({
    config: DERIVED,
    hyperdriveOrigins: { HYPERDRIVE: pg.url('postgres', 'postgres', 'company'), HYPERDRIVE_READONLY: pg.url('txt2sql_ro', 'ro-pw', 'company') },
    bindings: { DASHSCOPE_API_KEY: KEY, DASHSCOPE_BASE_URL: fake.url, SQL_EXECUTE: 'true' },
  }), { driver: NODE_POSTGRES, not: NEON })
})
