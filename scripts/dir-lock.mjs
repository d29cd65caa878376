// One process at a time per directory: the demo database's data directory (PGlite, unlike
// Postgres, writes no postmaster.pid and would let a second instance write the same files) and
// `npm start`'s state directory (local KV, Durable Objects, its settings file).
//
// The lock is a listening socket in Linux's abstract namespace, named after the directory's real
// path: the kernel lets one process hold a name, and frees it the moment that process ends,
// however it ends (kill -9 included) — so there is no stale lock file to clean up and no window
// in which two starts both take over one. The holder answers whoever connects with who it is.
// The namespace belongs to the network namespace: two containers sharing one folder but not a
// network would not see each other's lock.
import { createHash } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { connect, createServer } from 'node:net'

/** The directory is held by another process (or another lock in this one). */
export class DirectoryInUse extends Error {
  /** @param {string} dir @param {{ pid?: number } & Record<string, unknown>} holder */
  constructor(dir, holder) {
    super(`${dir} is in use by process ${holder.pid ?? '(unknown)'}`)
    this.dir = dir
    this.holder = holder
  }
}

/**
 * Holds `dir` (which must exist) for this process until `release()` or the process ends.
 * @param {string} dir
 * @param {Record<string, unknown>} [about] what a second comer is told besides the pid
 * @returns {Promise<{ release: () => Promise<void> }>}
 * @throws {DirectoryInUse}
 */
export async function lockDirectory(dir, about = {}) {
  const name = `\0txt2sql-edge:${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 40)}`
  const holder = JSON.stringify({ pid: process.pid, ...about })
  const server = createServer((socket) => socket.on('error', () => {}).end(holder))
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(name, () => resolve(undefined))
    })
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EADDRINUSE') throw err
    throw new DirectoryInUse(dir, await askHolder(name))
  }
  // Holding a directory must not keep the process alive.
  server.unref()
  return { release: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** @returns {Promise<{ pid?: number } & Record<string, unknown>>} */
function askHolder(name) {
  return new Promise((resolve) => {
    let text = ''
    const socket = connect(name)
    socket.setTimeout(2000, () => socket.destroy())
    socket.on('data', (d) => (text += d))
    socket.on('error', () => {})
    socket.on('close', () => {
      try {
        resolve(JSON.parse(text))
      } catch {
        resolve({})
      }
    })
  })
}
