/** A throwaway PostgreSQL server started from the machine's binaries (scripts/local-postgres.mjs). */
export type LocalPostgres = {
  port: number
  /** postgres://user:password@127.0.0.1:port/database (defaults: postgres, postgres, postgres) */
  url: (user?: string, password?: string, database?: string) => string
  /** Runs SQL through psql as the superuser (ON_ERROR_STOP, unaligned, tuples only); returns its output. */
  psql: (sql: string, database?: string) => string
  stop: () => void
}
export function findPgBin(): string
export function startLocalPostgres(options?: { port?: number; log?: (line: string) => void }): Promise<LocalPostgres>
