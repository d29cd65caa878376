import { Client, type ClientConfig, type QueryArrayConfig } from 'pg'
import * as pgCloudflare from 'pg-cloudflare'
import type { DatabaseConfig } from '../../config'
import type { Db } from '../db'
import { openPgSession } from './pg-session'

// node-postgres's socket for Workers (cloudflare:sockets). Its package types describe the empty
// module other runtimes resolve to; under the `workerd` condition it exports this class.
const { CloudflareSocket } = pgCloudflare as unknown as { CloudflareSocket: new (ssl: boolean) => NonNullable<ReturnType<NonNullable<ClientConfig['stream']>>> }

/**
 * One session over node-postgres (`pg`, the driver Cloudflare documents for Hyperdrive) on the
 * Worker's TCP socket: to the Hyperdrive binding's `connectionString`, which `wrangler dev` maps
 * straight to its local connection string. A client per request, as Hyperdrive keeps the pool.
 */
export async function openNodePostgres(config: DatabaseConfig & { url: string }): Promise<Db> {
  // The socket named here rather than found by node-postgres's own runtime sniffing, whose
  // require('pg-cloudflare') only a bundler resolving the `workerd` condition gets right (the
  // Workers test pool does not). node-postgres calls it with its connection options.
  const stream = ((options: { ssl?: unknown }) => new CloudflareSocket(Boolean(options.ssl))) as unknown as ClientConfig['stream']
  const client = new Client({ connectionString: config.url, stream })
  return openPgSession(client, config.connectTimeoutMs, async (text, types) => {
    // queryMode 'extended' without a name: Parse/Bind/Describe/Execute/Sync on the unnamed
    // statement, so Postgres refuses a text holding several commands and the session (shared
    // behind Hyperdrive's pool) keeps nothing. Without it, a query with no values goes through the
    // simple protocol, which runs every statement of the text. (@types/pg does not list the option.)
    const statement: QueryArrayConfig & { queryMode: 'extended' } = { text, queryMode: 'extended', rowMode: 'array', ...(types ? { types } : {}) }
    const result = await client.query(statement)
    return { rows: result.rows, fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) }
  })
}
