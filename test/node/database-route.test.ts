import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { chooseDatabaseRoute, redact, writeDerivedConfig } from '../../scripts/database-route.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startDevDatabase } from '../../scripts/dev/database.mjs'

const root = join(import.meta.dirname, '..', '..')
const LOCAL = 'CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE'
const LOCAL_RO = 'CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE_READONLY'

describe('which way npm start reaches the database', () => {
  const cases: [string, Record<string, string>, Record<string, string>, unknown][] = [
    ['no DATABASE_URL: the embedded demo database', {}, {}, { way: 'demo' }],
    ['a Postgres on this machine: the Neon driver through the local relay', { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/app' }, {}, { way: 'relay', url: 'postgres://u:p@127.0.0.1:5432/app' }],
    ['localhost too', { DATABASE_URL: 'postgres://u:p@localhost/app' }, {}, { way: 'relay', url: 'postgres://u:p@localhost/app' }],
    ['Neon: the Neon driver as it is', { DATABASE_URL: 'postgres://u:p@ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require' }, {}, { way: 'neon', url: 'postgres://u:p@ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require' }],
    ['a relay of the user\'s own (NEON_WS_PROXY): the Neon driver through it', { DATABASE_URL: 'postgres://u:p@db.internal/app', NEON_WS_PROXY: '10.0.0.5:8080/v1' }, {}, { way: 'neon', url: 'postgres://u:p@db.internal/app' }],
    [
      'any other Postgres (RDS, Supabase, the office): Hyperdrive, with no further setting',
      { DATABASE_URL: 'postgres://app:pw@mydb.abc123.ap-southeast-1.rds.amazonaws.com:5432/sales?sslmode=require' },
      {},
      { way: 'hyperdrive', connections: { HYPERDRIVE: 'postgres://app:pw@mydb.abc123.ap-southeast-1.rds.amazonaws.com:5432/sales?sslmode=require' } },
    ],
    [
      '… and its read-only role through a binding of its own',
      { DATABASE_URL: 'postgres://app:pw@pgm-bp1.pg.rds.aliyuncs.com/sales', DATABASE_URL_READONLY: 'postgres://ro:pw@pgm-bp1.pg.rds.aliyuncs.com/sales' },
      {},
      { way: 'hyperdrive', connections: { HYPERDRIVE: 'postgres://app:pw@pgm-bp1.pg.rds.aliyuncs.com/sales', HYPERDRIVE_READONLY: 'postgres://ro:pw@pgm-bp1.pg.rds.aliyuncs.com/sales' } },
    ],
    [
      "wrangler's own variable: Hyperdrive to it, whatever DATABASE_URL says",
      { DATABASE_URL: 'postgres://u:p@127.0.0.1/app' },
      { [LOCAL]: 'postgres://owner:pw@127.0.0.1:5432/app', [LOCAL_RO]: 'postgres://ro:pw@127.0.0.1:5432/app' },
      { way: 'hyperdrive', connections: { HYPERDRIVE: 'postgres://owner:pw@127.0.0.1:5432/app', HYPERDRIVE_READONLY: 'postgres://ro:pw@127.0.0.1:5432/app' } },
    ],
  ]
  for (const [what, settings, env, route] of cases) {
    it(what, () => {
      expect(chooseDatabaseRoute(settings, env)).toEqual(route)
    })
  }

  it('refuses a read-only binding without the main one', () => {
    expect(() => chooseDatabaseRoute({}, { [LOCAL_RO]: 'postgres://ro:pw@127.0.0.1/app' })).toThrow(/needs CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE/)
  })
})

describe('the Hyperdrive way under npm start', () => {
  it('adds the bindings in a derived configuration, hands wrangler the connection strings in its environment, and takes the URLs away from the worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'txt2sql-route-'))
    try {
      writeFileSync(join(dir, 'wrangler.toml'), readFileSync(join(root, 'wrangler.toml')))
      const vars = { DATABASE_URL: 'postgres://app:s3cret@db.example.com/sales', DATABASE_URL_READONLY: 'postgres://ro:s3cret2@db.example.com/sales' }
      const lines: string[] = []
      const started = await startDevDatabase({ root: dir, vars, env: {}, config: { sql: { checkTimeoutMs: 3000, executeTimeoutMs: 5000 } }, stateDir: dir, log: (l: string) => lines.push(l) })
      // Nothing was started for it (no demo database, no relay): the binding is all.
      expect(lines).toEqual([])
      expect(started.vars).toEqual({ DATABASE_URL: undefined, DATABASE_URL_READONLY: undefined, NEON_WS_PROXY: undefined })
      expect(started.wranglerEnv).toEqual({ [LOCAL]: 'postgres://app:s3cret@db.example.com/sales', [LOCAL_RO]: 'postgres://ro:s3cret2@db.example.com/sales' })
      expect(started.wranglerArgs).toEqual(['--config', join(dir, '.wrangler-dev.hyperdrive.jsonc')])
      expect(started.description).toBe('node-postgres through the Hyperdrive binding HYPERDRIVE, which wrangler dev connects straight to postgres://app@db.example.com/sales, the read-only role through HYPERDRIVE_READONLY to postgres://ro@db.example.com/sales (no WebSocket relay)')
      const text = readFileSync(join(dir, '.wrangler-dev.hyperdrive.jsonc'), 'utf8')
      expect(text).not.toMatch(/s3cret/)
      const config = JSON.parse(text.replace(/^\/\/.*$/gm, ''))
      expect(config.hyperdrive).toEqual([
        { binding: 'HYPERDRIVE', id: expect.stringMatching(/^[0-9a-f]{32}$/) },
        { binding: 'HYPERDRIVE_READONLY', id: expect.stringMatching(/^[0-9a-f]{32}$/) },
      ])
      // The build that carries node-postgres leaves the Neon driver out instead.
      expect(config.alias).toEqual({ '@neondatabase/serverless': './src/db/drivers/not-in-this-build.ts' })
      expect(config.main).toBe('src/index.ts')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps every other part of wrangler.toml as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'txt2sql-route-'))
    try {
      writeFileSync(join(dir, 'wrangler.toml'), readFileSync(join(root, 'wrangler.toml')))
      const path = writeDerivedConfig(dir, '.wrangler-test.hyperdrive.jsonc', [{ binding: 'HYPERDRIVE', id: 'a'.repeat(32) }], 'a test')
      const { alias, hyperdrive, ...rest } = JSON.parse(readFileSync(path, 'utf8').replace(/^\/\/.*$/gm, ''))
      const { alias: _alias, ...original } = parseToml(readFileSync(join(root, 'wrangler.toml'), 'utf8'))
      expect(rest).toEqual(JSON.parse(JSON.stringify(original)))
      expect(hyperdrive).toEqual([{ binding: 'HYPERDRIVE', id: 'a'.repeat(32) }])
      expect(alias).toEqual({ '@neondatabase/serverless': './src/db/drivers/not-in-this-build.ts' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('says where the database is without the password', () => {
    expect(redact('postgres://app:s3cret@db.example.com:6543/sales?sslmode=require')).toBe('postgres://app@db.example.com:6543/sales')
    expect(redact('not a url')).toBe('a connection string that is not a URL')
  })
})
