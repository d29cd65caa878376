// PGlite in a child process (pglite-child.mjs), offering what tools/pglite-server/server.mjs
// needs of a database — execProtocolRawStream, query, exec — plus what PGlite cannot do: end a
// statement that runs too long. PGlite ignores `statement_timeout` (no timer signal in WASM) and
// drops a CancelRequest, so a runaway query would hold the one session, and every waiting
// connection, until it finished on its own. Here a protocol message that runs past
// `messageTimeoutMs` fails with SQLSTATE 57014, as a statement timeout does in Postgres, and the
// process is killed and a new one opened on the same data directory (a few seconds). The session
// is lost with it — an open transaction is rolled back, as after a crash — so the server ends
// that client's connection; the others keep their place in the queue.
//
// A process rather than a worker thread: terminating a thread in the middle of WASM could abort
// the whole of Node here (V8 "Check failed: jit_page_->allocations_.erase(addr) == 1"), and a
// killed process gives back its memory and files whatever state it was in.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./pglite-child.mjs', import.meta.url))
const CLOSE_GRACE_MS = 3000

/** A statement ended by `messageTimeoutMs`: Postgres's query_canceled. */
export class StatementTimeout extends Error {
  code = '57014'
}

/**
 * @param {{ dataDir: string, messageTimeoutMs?: number, log?: (line: string) => void }} options
 *   messageTimeoutMs: how long one protocol message may run (0: no limit)
 */
export async function startPgliteProcess({ dataDir, messageTimeoutMs = 0, log = () => {} }) {
  /** @type {import('node:child_process').ChildProcess | null} */
  let child = null
  /** @type {Map<number, { resolve: (rows: unknown) => void, reject: (err: Error) => void, onData?: (data: Uint8Array) => void }>} */
  const pending = new Map()
  let nextId = 1
  let restarts = 0
  let closed = false
  /** @type {Promise<void>} */
  let ready = open()

  function open() {
    // Its own process group: a Ctrl-C meant for `npm start` reaches the parent, which closes it.
    const proc = fork(CHILD, [dataDir], { serialization: 'advanced', detached: true, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child = proc
    proc.on('message', (m) => {
      const call = pending.get(m.id)
      if (!call) return
      if (m.data) return call.onData?.(m.data)
      pending.delete(m.id)
      if (m.error) call.reject(Object.assign(new Error(m.error.message), { code: m.error.code }))
      else call.resolve(m.rows)
    })
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    // A process that dies on its own (PGlite's Postgres exiting, out of memory) is replaced.
    void exited.then((code) => {
      if (child !== proc || closed) return
      failPending(new Error(`the demo database's process stopped (exit code ${code})`))
      ready = replaced(proc)
      ready.catch(() => {})
    })
    return new Promise((resolve, reject) => {
      proc.on('message', (m) => m.ready && resolve(undefined))
      void exited.then((code) => reject(new Error(`the demo database could not open ${dataDir} (exit code ${code}; see its output above)`)))
    })
  }

  /** Kills `proc` and opens a new process. */
  async function replaced(proc) {
    child = null
    restarts++
    await stopProcess(proc, 0)
    return open()
  }

  function failPending(err) {
    for (const call of pending.values()) call.reject(err)
    pending.clear()
  }

  /**
   * @param {string} op
   * @param {Record<string, unknown>} payload
   * @param {{ onData?: (data: Uint8Array) => void, limitMs?: number }} [options]
   */
  async function call(op, payload, { onData, limitMs = 0 } = {}) {
    await ready
    const proc = child
    if (closed || !proc) throw new Error('the demo database is closed')
    const id = nextId++
    return new Promise((resolve, reject) => {
      /** @type {NodeJS.Timeout | undefined} */
      let timer
      pending.set(id, {
        onData,
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      })
      proc.send({ id, op, ...payload })
      if (limitMs > 0) {
        timer = setTimeout(() => {
          pending.delete(id)
          log(`[demo-db] a statement ran past ${limitMs} ms: ended it and reopened the demo database (PGlite cannot cancel a query)`)
          failPending(new Error('the demo database was reopened after a statement timeout'))
          ready = replaced(proc)
          // Whoever calls next waits for the new process and sees its failure, if any.
          ready.catch(() => {})
          reject(new StatementTimeout(`canceling statement due to statement timeout: the demo database ends any statement after ${limitMs} ms (it cannot cancel one, so the connection ends too)`))
        }, limitMs)
      }
    })
  }

  await ready
  return {
    /** @param {Uint8Array} message @param {{ onRawData: (data: Uint8Array) => void }} options */
    execProtocolRawStream: async (message, { onRawData }) => {
      await call('protocol', { message }, { onData: onRawData, limitMs: messageTimeoutMs })
    },
    /** @param {string} sql @param {unknown[]} [params] */
    query: async (sql, params) => ({ rows: /** @type {Record<string, unknown>[]} */ (await call('query', { sql, params }, { limitMs: messageTimeoutMs })) }),
    /** Our own statements (loading the demo), without the limit. @param {string} sql */
    exec: async (sql) => {
      await call('exec', { sql })
    },
    /** How often a statement timeout (or a crash) replaced the process. */
    restarts: () => restarts,
    /** The PGlite process, for those who account for every process started. */
    pid: () => child?.pid,
    close: async () => {
      await ready.catch(() => {})
      const proc = child
      closed = true
      child = null
      // A clean close checkpoints, so the next start needs no recovery; a statement still
      // running is not waited for long.
      if (proc) await stopProcess(proc, CLOSE_GRACE_MS, () => proc.send({ id: nextId++, op: 'close' }))
    },
  }
}

/** Asks `proc` to end (`ask`), then kills it after `graceMs`; resolves once it has exited. */
async function stopProcess(proc, graceMs, ask = () => {}) {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  try {
    ask()
  } catch {}
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
