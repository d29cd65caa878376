// A real PostgreSQL server for the database tests, plus the WebSocket relay the Neon driver uses
// to reach it (as in local development). Each test database is created from a fixture here.
import { readFileSync } from 'node:fs'
// Node's URL: with @types/node 24 the global one in this project is the Workers URL type.
import { URL } from 'node:url'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startLocalPgBouncer } from '../../scripts/local-pgbouncer.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'

export type TestDatabases = {
  /** NEON_WS_PROXY for the worker. */
  wsProxy: string
  /** Connection strings by name (owner role unless the name says otherwise). */
  urls: Record<string, string>
  /** A port nothing listens on (unreachable database). */
  deadUrl: string
  close: () => Promise<void>
}


export async function startTestDatabases(): Promise<TestDatabases> {
  const pg: LocalPostgres = await startLocalPostgres()
  const relay: { proxy: string; close: () => Promise<void> } = await startWsRelay()
  const fixture = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
  pg.psql('CREATE DATABASE introspect; CREATE DATABASE metro; CREATE DATABASE feedback; CREATE DATABASE guard; CREATE DATABASE roles;')
  pg.psql(fixture('../fixtures/db/introspect-schema.sql'), 'introspect')
  pg.psql(fixture('../../db/demo/metro.sql'), 'metro')
  pg.psql(fixture('../../db/demo/metro.sql'), 'feedback')
  pg.psql(fixture('../../db/demo/metro.sql'), 'guard')
  pg.psql(fixture('../fixtures/db/guard.sql'), 'guard')
  pg.psql(fixture('../fixtures/db/roles.sql'), 'roles')
  // Transaction pooling with one server session per database and role: consecutive clients share it.
  let bouncer: { port: number; stop: () => void }
  try {
    bouncer = await startLocalPgBouncer({ serverPort: pg.port, users: { postgres: 'postgres', txt2sql_ro: 'ro-pw', roles_ro: 'roles-ro-pw' } })
  } catch (err) {
    await relay.close()
    pg.stop()
    throw err
  }
  const pooled = (user: string, password: string, database: string) => pg.url(user, password, database).replace(`:${pg.port}/`, `:${bouncer.port}/`)
  return {
    wsProxy: relay.proxy,
    urls: {
      introspect: pg.url('postgres', 'postgres', 'introspect'),
      introspectReader: pg.url('reader', 'reader-pw', 'introspect'),
      introspectNobody: pg.url('nobody', 'nobody-pw', 'introspect'),
      introspectWrongPassword: pg.url('reader', 'not-the-password', 'introspect'),
      missingDatabase: pg.url('postgres', 'postgres', 'no_such_db'),
      metro: pg.url('postgres', 'postgres', 'metro'),
      feedback: pg.url('postgres', 'postgres', 'feedback'),
      guard: pg.url('postgres', 'postgres', 'guard'),
      guardReadonly: pg.url('txt2sql_ro', 'ro-pw', 'guard'),
      /** Through PgBouncer in transaction mode (one shared server session). */
      guardPooled: pooled('postgres', 'postgres', 'guard'),
      guardReadonlyPooled: pooled('txt2sql_ro', 'ro-pw', 'guard'),
      /** Roles and row-level security (test/fixtures/db/roles.sql): the owner, and the login that assumes the roles. */
      roles: pg.url('postgres', 'postgres', 'roles'),
      rolesReadonly: pg.url('roles_ro', 'roles-ro-pw', 'roles'),
      rolesReadonlyPooled: pooled('roles_ro', 'roles-ro-pw', 'roles'),
      /** One login per business role (DB_ROLE_URLS): the roles analyst and sales_rep logging in as themselves. */
      rolesAnalyst: pg.url('analyst', 'analyst-pw', 'roles'),
      rolesSalesRep: pg.url('sales_rep', 'sales-rep-pw', 'roles'),
    },
    deadUrl: `postgres://postgres:postgres@127.0.0.1:1/postgres`,
    close: async () => {
      bouncer.stop()
      await relay.close()
      pg.stop()
    },
  }
}
