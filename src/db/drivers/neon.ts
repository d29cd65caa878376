import { Client } from '@neondatabase/serverless'
import type { DatabaseConfig } from '../../config'
import type { Db } from '../db'
import { queryUnnamed } from './neon-unnamed-statement'
import { openPgSession } from './pg-session'
import { invalidUrl } from './invalid-url'

/**
 * One session over the Neon driver's WebSocket `Client` (a session: read-only transactions and SET
 * LOCAL need one). With NEON_WS_PROXY set — local development and tests against a plain Postgres —
 * the driver goes through that relay without TLS; otherwise it talks to Neon's proxy directly.
 */
export async function openNeon(config: DatabaseConfig & { url: string }): Promise<Db> {
  let client: Client
  try {
    client = new Client({ connectionString: config.url })
  } catch (err) {
    throw invalidUrl(err)
  }
  if (config.wsProxy) {
    const proxy = config.wsProxy.replace(/^wss?:\/\//, '')
    client.neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`
    client.neonConfig.useSecureWebSocket = false
    client.neonConfig.pipelineTLS = false
    client.neonConfig.pipelineConnect = false
  }
  return openPgSession(client, config.connectTimeoutMs, async (text, types) => {
    const result = await queryUnnamed(client, text, types)
    return { rows: result.rows, fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) }
  })
}
