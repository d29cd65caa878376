// A loopback port nothing listens on right now (the OS picks it), for the local servers of the
// dev script, tests and benchmarks.
import { createServer } from 'node:net'

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
      server.close(() => resolve(port))
    })
  })
}

/** Whether `port` on 127.0.0.1 can be listened on right now (a listener on 0.0.0.0 counts too). */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * Listens on `port` of 127.0.0.1 until `release()`, so nothing else — not even this process's own
 * servers on port 0 — is given it meanwhile; null when it is in use.
 * @returns {Promise<{ release: () => Promise<void> } | null>}
 */
export function holdPort(port) {
  return new Promise((resolve) => {
    // Whoever connects meanwhile is turned away at once rather than left waiting for an answer.
    const server = createServer((socket) => socket.destroy())
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve({ release: () => new Promise((r) => server.close(() => r(undefined))) }))
  })
}
