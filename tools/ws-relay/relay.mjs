// A WebSocket → TCP relay standing in for Neon's proxy in front of a local Postgres, so the Neon
// driver (which only speaks WebSocket) reaches a plain server. Same URL shape as Neon's Go
// `wsproxy`: ws://HOST:PORT/v1?address=<pghost>:<pgport>; binary frames ↔ socket bytes.
// Local development and tests only: targets are limited to loopback addresses by default.
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { createRequire } from 'node:module'
import { terminateWatcher } from './terminate-watch.mjs'

// Loaded through require: vitest 5 loads the test global setup with the Workers plugin's resolve
// conditions (worker/browser), under which `import 'ws'` resolves to its browser stub.
const { WebSocketServer } = createRequire(import.meta.url)('ws')

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/**
 * @param {{ port?: number, host?: string, allowHost?: (host: string) => boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ port: number, proxy: string, connections: () => number, close: () => Promise<void> }>}
 */
export async function startWsRelay(options = {}) {
  const { port = 0, host = '127.0.0.1', allowHost = (h) => LOOPBACK.has(h), log = () => {} } = options
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n')
  })
  const wss = new WebSocketServer({ server: http })
  const sockets = new Set()

  wss.on('connection', (ws, req) => {
    const address = new URL(req.url ?? '/', 'http://relay').searchParams.get('address') ?? ''
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address)
    if (!m || !allowHost(m[1])) {
      log(`[ws-relay] refused target ${JSON.stringify(address)}`)
      return ws.close(1008, 'target not allowed')
    }
    const tcp = connect({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) })
    sockets.add(tcp)
    tcp.setNoDelay(true)
    const pending = []
    const terminated = terminateWatcher()
    let ending = false
    tcp.on('connect', () => {
      for (const chunk of pending.splice(0)) tcp.write(chunk)
      if (ending) tcp.end()
    })
    ws.on('message', (data) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
      if (ending) return
      if (tcp.connecting) pending.push(chunk)
      else tcp.write(chunk)
      // As a Postgres server does on Terminate: close, so the client's end() completes.
      if (terminated(chunk)) {
        ending = true
        if (!tcp.connecting) tcp.end()
      }
    })
    tcp.on('data', (chunk) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true })
    })
    const end = () => {
      sockets.delete(tcp)
      tcp.destroy()
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close()
    }
    tcp.on('error', (err) => {
      log(`[ws-relay] ${address}: ${err.message}`)
      end()
    })
    tcp.on('close', end)
    ws.on('close', end)
    ws.on('error', end)
  })

  await new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, host, resolve)
  })
  const actual = /** @type {import('node:net').AddressInfo} */ (http.address()).port
  return {
    port: actual,
    /** The value for NEON_WS_PROXY. */
    proxy: `${host}:${actual}/v1`,
    connections: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        for (const c of wss.clients) c.terminate()
        wss.close()
        http.close(() => resolve())
        http.closeAllConnections?.()
      }),
  }
}
