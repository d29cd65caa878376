import { Client, neonConfig } from '@neondatabase/serverless'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
// @ts-expect-error plain ESM JavaScript tool
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
// @ts-expect-error plain ESM JavaScript tool
import { terminateWatcher } from '../../tools/ws-relay/terminate-watch.mjs'
// @ts-expect-error plain ESM JavaScript script
import { startDemoDatabase } from '../../scripts/demo-database.mjs'

const bytes = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)))
const int32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
const typed = (type: string, body: number[]) => bytes(type, int32(body.length + 4), body)
const sslRequest = bytes(int32(8), int32(80877103))
const startup = (() => {
  const body = [...Buffer.from('user\0postgres\0database\0postgres\0\0', 'latin1')]
  return bytes(int32(body.length + 8), int32(196608), body)
})()
// A query whose text holds the very bytes of a Terminate message: only boundaries may count.
const trickyQuery = typed('Q', [...Buffer.from("SELECT 'X\0\0\0\x04'\0", 'latin1')])
const terminate = typed('X', [])

function feed(watch: (chunk: Uint8Array) => boolean, stream: Uint8Array, splitEvery: number): boolean[] {
  const seen: boolean[] = []
  for (let i = 0; i < stream.length; i += splitEvery) seen.push(watch(stream.subarray(i, i + splitEvery)))
  return seen
}

describe('the relay notices the client Terminate by message boundaries', () => {
  const session = Uint8Array.from([...sslRequest, ...startup, ...trickyQuery, ...typed('S', []), ...terminate])

  it.each([1, 2, 3, 5, 7, 64, session.length])('in chunks of %i bytes: only after the last byte of Terminate', (size) => {
    const seen = feed(terminateWatcher(), session, size)
    expect(seen.at(-1)).toBe(true)
    expect(seen.slice(0, -1).every((s) => !s)).toBe(true)
  })

  it('does not take Terminate-looking bytes inside a query, or a session without Terminate, for one', () => {
    const watch = terminateWatcher()
    expect(watch(Uint8Array.from([...startup, ...trickyQuery, ...trickyQuery]))).toBe(false)
  })

  it('does not treat the startup message as typed', () => {
    // A startup message whose first byte is 'X' would be misread if the phase were not tracked.
    const watch = terminateWatcher()
    expect(watch(bytes(int32(0x58000008), int32(196608)))).toBe(false)
  })
})

describe('the Neon driver through the relay to the embedded demo database', () => {
  let db: { url: string; close: () => Promise<void> }
  let relay: { proxy: string; connections: () => number; close: () => Promise<void> }

  beforeAll(async () => {
    db = await startDemoDatabase({ dataDir: 'memory://' })
    relay = await startWsRelay({ port: 0 })
  }, 90_000)
  afterAll(async () => {
    await relay?.close()
    await db?.close()
  })

  it('closes the session on end()', async () => {
    neonConfig.webSocketConstructor = WebSocket
    const client = new Client({ connectionString: db.url })
    client.neonConfig.wsProxy = (host, port) => `${relay.proxy}?address=${host}:${port}`
    client.neonConfig.useSecureWebSocket = false
    client.neonConfig.pipelineTLS = false
    client.neonConfig.pipelineConnect = false
    await client.connect()
    const { rows } = await client.query("SELECT name FROM stations WHERE name LIKE '%沈塘桥%'")
    expect(rows).toEqual([{ name: '沈塘桥' }])
    expect(relay.connections()).toBe(1)
    // Settles only once the TCP side is closed after Terminate (by the demo database or the relay).
    await client.end()
    await expect.poll(() => relay.connections()).toBe(0)
  })
})
