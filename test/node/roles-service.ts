import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sign } from 'hono/jwt'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startDevServer, type DevServer } from './dev-server'

const root = join(import.meta.dirname, '..', '..')
const SECRET = 'npm-start-jwt-secret-0123456789abcdef'

export type RolesService = { server: DevServer; token: (claims: Record<string, unknown>) => Promise<string>; secret: string; stop: () => Promise<void> }

/**
 * `npm start` as a company sets it up for roles: a real Postgres holding test/fixtures/db/roles.sql
 * (roles with different grants, a tenant row-level security policy), the fake DashScope answering
 * `answers`, JWT_SECRET and DB_ROLES=analyst,sales_rep, runs allowed. `token` signs a JWT valid for
 * ten minutes (claims may override `exp`).
 */
export async function startRolesService(answers: Record<string, string>, env: Record<string, string | undefined> = {}): Promise<RolesService> {
  const pg = await startLocalPostgres()
  let fake: { url: string; close: () => Promise<void> } | undefined
  try {
    pg.psql('CREATE DATABASE company')
    pg.psql(readFileSync(join(root, 'test', 'fixtures', 'db', 'roles.sql'), 'utf8'), 'company')
    fake = await startFakeDashScope({ apiKey: 'roles-upstream-key', answers })
    const server = await startDevServer({
      DASHSCOPE_API_KEY: 'roles-upstream-key',
      DASHSCOPE_BASE_URL: fake!.url,
      DASHSCOPE_MODEL: undefined,
      DATABASE_URL: pg.url('postgres', 'postgres', 'company'),
      DATABASE_URL_READONLY: pg.url('roles_ro', 'roles-ro-pw', 'company'),
      NEON_WS_PROXY: undefined,
      SQL_EXECUTE: 'true',
      JWT_SECRET: SECRET,
      DB_ROLES: 'analyst,sales_rep',
      ...env,
    })
    return {
      server,
      secret: SECRET,
      token: (claims) => sign({ exp: Math.floor(Date.now() / 1000) + 600, ...claims }, SECRET, 'HS256'),
      stop: async () => {
        await server.stop()
        await fake!.close()
        pg.stop()
      },
    }
  } catch (err) {
    await fake?.close()
    pg.stop()
    throw err
  }
}
