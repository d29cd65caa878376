// The inside of tools/pglite-server/pglite-process.mjs: one PGlite in a process of its own, driven
// by IPC messages. PGlite runs a query synchronously in WASM and cannot interrupt it; in its own
// process, a query that runs too long is ended by killing the process — which frees its memory and
// files as nothing inside one process can — and no query ever blocks the process that serves the
// connections (under `npm start`: the fake DashScope, the relay and the signal handlers too).
import { Worker } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

// While a query runs, this thread cannot notice anything; a watchdog thread can. If the process
// that started this one is gone (killed outright), nobody is left to stop a runaway query here.
new Worker(
  `const parent = process.ppid
   setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL') }, 250)`,
  { eval: true },
).unref()

const send = (message) => process.send?.(message)
const db = await PGlite.create(process.argv[2])
// The parent going away ends the channel: nothing else is served.
process.on('disconnect', () => process.exit(0))

process.on('message', async ({ id, op, message, sql, params }) => {
  try {
    if (op === 'protocol') {
      await db.execProtocolRawStream(message, { onRawData: (data) => send({ id, data }) })
      send({ id })
    } else if (op === 'query') {
      send({ id, rows: (await db.query(sql, params)).rows })
    } else if (op === 'exec') {
      await db.exec(sql)
      send({ id })
    } else if (op === 'close') {
      await db.close()
      send({ id })
      process.disconnect()
    }
  } catch (err) {
    const e = /** @type {{ message?: string, code?: string }} */ (err)
    const text = String(e?.message ?? err)
    send({ id, error: { message: text, code: typeof e?.code === 'string' ? e.code : undefined } })
    // Postgres inside PGlite exited (a COPY FROM STDIN with no input does it): the instance is
    // dead; ending the process makes the other side open a new one at once.
    if (/^Program terminated/.test(text) || db.closed) process.exit(1)
  }
})
send({ ready: true })
