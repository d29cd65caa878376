import { Client, type CustomTypesConfig, type FieldDef, type Submittable } from '@neondatabase/serverless'

type DriverQuery = Submittable & {
  requiresPreparation(): boolean
}
type DriverQueryClass = new (config: {
  text: string
  rowMode: 'array'
  types?: CustomTypesConfig
  callback: (err: Error | null, result: { rows: unknown[][]; fields: FieldDef[] }) => void
}) => DriverQuery

// The driver (node-postgres inside) takes the extended protocol only for a named statement or one
// with parameters; the `queryMode: 'extended'` option of newer node-postgres is not in it yet. A
// named statement outlives the request in the server session — behind a pooler that hands one
// session to many clients (PgBouncer in transaction mode, Hyperdrive, Neon's pooled endpoint) the
// next request's Parse fails with 42P05 "already exists". So: the driver's own Query, told that it
// needs preparing. With no name it is Parse/Bind/Describe/Execute/Sync on the unnamed statement,
// which Postgres drops at the next Parse: nothing is left in the session.
// Made on first use, not at load: a Hyperdrive build replaces the Neon driver with a module that
// has no Query (src/db/drivers/not-in-this-build.ts), and its Worker must still start.
let UnnamedStatement: DriverQueryClass | undefined
function unnamedStatementClass(): DriverQueryClass {
  if (UnnamedStatement) return UnnamedStatement
  const Base = (Client as unknown as { Query?: DriverQueryClass }).Query
  if (typeof Base !== 'function' || typeof Base.prototype.requiresPreparation !== 'function') {
    throw new Error('@neondatabase/serverless no longer exposes Client.Query: src/db/drivers/neon-unnamed-statement.ts needs another way to the extended protocol')
  }
  UnnamedStatement = class extends Base {
    override requiresPreparation(): boolean {
      return true
    }
  }
  return UnnamedStatement
}

/**
 * Runs one statement through the extended protocol as the unnamed prepared statement: Postgres
 * refuses a text holding several commands ("cannot insert multiple commands into a prepared
 * statement"), and the session keeps nothing afterwards. Rows as arrays; the driver's errors
 * (SQLSTATE `code`, `position`) are passed on as they are.
 */
export function queryUnnamed(client: Client, text: string, types?: CustomTypesConfig): Promise<{ rows: unknown[][]; fields: FieldDef[] }> {
  const Statement = unnamedStatementClass()
  return new Promise((resolve, reject) => {
    const query = new Statement({
      text,
      rowMode: 'array',
      ...(types ? { types } : {}),
      callback: (err, result) => (err ? reject(err) : resolve(result)),
    })
    client.query(query)
  })
}
