import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

let pg: LocalPostgres
let server: DevServer

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE shop')
  pg.psql(
    `CREATE TABLE dtzpt (zdbh integer PRIMARY KEY, zdmc text NOT NULL);
     COMMENT ON TABLE dtzpt IS '地铁站点'; COMMENT ON COLUMN dtzpt.zdmc IS '站点名称';
     INSERT INTO dtzpt VALUES (1, '沈塘桥'), (2, '武林广场'); ANALYZE dtzpt;`,
    'shop',
  )
  // A plain local server, as a newcomer has: npm start must start the relay the Neon driver needs.
  server = await startDevServer({ DATABASE_URL: pg.url('postgres', 'postgres', 'shop'), NEON_WS_PROXY: undefined, DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  pg?.stop()
})

describe('npm start with DATABASE_URL pointing at a local Postgres', () => {
  it('relays the Neon driver to it and answers from its introspected schema', async () => {
    expect(server.output()).toContain('WebSocket relay')
    const health = await (await fetch(`${server.url}/healthz`)).json()
    expect(health.schema_version).toMatch(/^pg-/)
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) })
    const events = await readEvents(res.body!)
    expect(events[0]!.data.tables).toEqual(['dtzpt'])
  })

  it('never prints the connection string', () => {
    expect(server.output()).not.toContain(pg.url('postgres', 'postgres', 'shop'))
    // It reaches the worker through a settings file only its owner may read, in the start's own state directory.
    const envFile = join(server.stateDir, 'dev.env')
    expect(statSync(envFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(envFile, 'utf8')).toContain(`DATABASE_URL=${JSON.stringify(pg.url('postgres', 'postgres', 'shop'))}`)
  })
})
