import { startLoopbackServer } from './silent-server'

/**
 * A Postgres server that lets a client log in and then never answers a query: a database that
 * hangs mid-session (a stuck connection pooler, a lock that never comes free, a half-open socket).
 * Speaks just enough of the protocol: SSLRequest → 'N'; startup → AuthenticationOk, ReadyForQuery.
 */
export function startMutePostgres(): Promise<{ port: number; close: () => Promise<void> }> {
  return startLoopbackServer((socket) => {
    let buffered = Buffer.alloc(0)
    let started = false
    socket.on('data', (chunk) => {
      if (started) return // swallow every query
      buffered = Buffer.concat([buffered, chunk])
      while (!started && buffered.length >= 8) {
        const length = buffered.readInt32BE(0)
        if (buffered.length < length) return
        const code = buffered.readInt32BE(4)
        buffered = buffered.subarray(length)
        if (code === 80877103) {
          socket.write('N') // no TLS
          continue
        }
        started = true
        const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]) // AuthenticationOk
        const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]) // ReadyForQuery, idle
        socket.write(Buffer.concat([ok, ready]))
      }
    })
  })
}
