// Serves a PGlite database over the Postgres wire protocol the way a Postgres server behaves
// towards its clients: every connection gets a clean session of its own. PGlite has exactly one
// session, so connections take turns: one is served at a time, the others wait (in order, in a
// bounded queue, as a pooler would hold them); when a connection ends — Terminate, close, error,
// idle while others wait — its session is reset (pending COPY and extended-protocol state ended,
// open transaction rolled back, DISCARD ALL) before the next one starts.
//
// The session runs as the role the client logs in as (the startup message's `user`): PGlite's one
// session belongs to its bootstrap superuser and ignores that name, so each turn begins with
// SET SESSION AUTHORIZATION to the role, after the role's own settings (ALTER ROLE … SET) are
// applied as a login would. Passwords are not checked: anyone on this machine may log in as the
// superuser. The role bounds what its sessions may do (the worker's checks and runs), not who
// connects. PGlite's DISCARD ALL does not give the session back to the superuser, hence the
// explicit switch at every turn.
//
// Why not @electric-sql/pglite-socket: it interleaves every connection's messages in the one
// session (a named statement, SET or open transaction of one client is seen by the next; checks
// failed with 42P05 "prepared statement already exists"), has no hook to reset between clients,
// answers a full server with plain text instead of a Postgres error, and its query queue stops
// for good after one thrown query (0.2.17: `processQueue` returns without clearing `processing`).
import { createServer } from 'node:net'

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const PROTOCOL_3 = 196608
const TERMINATE = 0x58
const UNDEFINED_ROLE = '28000'
// Postgres refuses messages above 1 GB; a demo needs far less, and the buffer is held in memory.
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

// Ends whatever the last client left: a COPY FROM STDIN (CopyFail; ignored outside COPY), an
// extended-protocol exchange waiting for its Sync (Sync; a Query sent first would be discarded),
// an open or failed transaction (ROLLBACK), then every other piece of session state: prepared
// statements, portals, SET values, temporary tables, LISTEN, advisory locks (DISCARD ALL).
const RESET = Buffer.concat([typed('f', cstring('the client went away')), typed('S'), typed('Q', cstring('ROLLBACK')), typed('Q', cstring('DISCARD ALL'))])

/**
 * @param {{ db: { execProtocolRawStream: (m: Uint8Array, o: { onRawData: (d: Uint8Array) => void }) => Promise<void>,
 *     query: (sql: string, params?: unknown[]) => Promise<{ rows: any[] }> },
 *   host?: string, port?: number, maxWaiting?: number, idleMs?: number, log?: (line: string) => void }} options
 *   maxWaiting: connections that may wait for their turn (more are refused with SQLSTATE 53300);
 *   idleMs: how long the served connection may sit idle while others wait (then 57P05)
 * @returns {Promise<{ port: number, stats: () => { serving: boolean, waiting: number, served: number, refused: number, resetFailures: number }, close: () => Promise<void> }>}
 */
export async function startPgliteServer(options) {
  const { db, host = '127.0.0.1', port = 0, maxWaiting = 64, idleMs = 10_000, log = () => {} } = options
  /** @type {Set<Connection>} */
  const all = new Set()
  /** @type {Connection[]} */
  const waiting = []
  /** @type {Connection | null} */
  let serving = null
  /** @type {Promise<void>} */
  let turn = Promise.resolve()
  let closing = false
  /** @type {string | undefined} PGlite's bootstrap superuser, whose session PGlite's is */
  let superuser
  const counts = { served: 0, refused: 0, resetFailures: 0 }

  const server = createServer((socket) => {
    const conn = new Connection(socket)
    all.add(conn)
    socket.on('close', () => {
      all.delete(conn)
      const i = waiting.indexOf(conn)
      if (i >= 0) waiting.splice(i, 1)
    })
    if (closing) return conn.destroy()
    if (!serving) return startTurn(conn)
    if (waiting.length >= maxWaiting) {
      counts.refused++
      return conn.refuse('53300', `sorry, too many clients already: the demo database serves one connection at a time and ${waiting.length} are waiting`)
    }
    waiting.push(conn)
  })

  function startTurn(conn) {
    serving = conn
    counts.served++
    turn = serve(conn).finally(() => {
      serving = null
      let next
      while ((next = waiting.shift()) && next.closed);
      if (next && !closing) startTurn(next)
    })
  }

  /** One client's whole session, then the reset. Never throws: the next client must get its turn. */
  async function serve(conn) {
    try {
      const startup = await conn.next(idleMs, () => waiting.length > 0)
      if (!startup || startup === 'idle') return
      superuser ??= (await db.query('SELECT rolname FROM pg_roles WHERE oid = 10')).rows[0].rolname
      const refusal = await logIn(db, startupUser(startup), superuser)
      if (refusal) return conn.fail(...refusal)
      await db.execProtocolRawStream(startup, { onRawData: (data) => conn.write(data) })
      for (;;) {
        const message = await conn.next(idleMs, () => waiting.length > 0)
        if (message === 'idle') {
          conn.fail('57P05', `terminating connection due to idle-session timeout: ${waiting.length} other connection(s) are waiting for the demo database`)
          break
        }
        if (!message || message[0] === TERMINATE) break
        await db.execProtocolRawStream(message, { onRawData: (data) => conn.write(data) })
      }
    } catch (err) {
      // A SQLSTATE of our own making (the thread's statement timeout) goes to the client as is.
      if (/^[0-9A-Z]{5}$/.test(err?.code ?? '')) return conn.fail(err.code, err.message)
      log(`[demo-db] a query failed inside PGlite: ${err?.message ?? err}`)
      conn.fail('XX000', `the demo database failed: ${err?.message ?? err}`)
    } finally {
      conn.destroy()
      try {
        await db.execProtocolRawStream(RESET, { onRawData: () => {} })
      } catch (err) {
        counts.resetFailures++
        log(`[demo-db] could not reset the session: ${err?.message ?? err}`)
      }
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(undefined))
  })
  return {
    port: /** @type {import('node:net').AddressInfo} */ (server.address()).port,
    stats: () => ({ serving: serving !== null, waiting: waiting.length, ...counts }),
    close: async () => {
      closing = true
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)))
      for (const conn of all) conn.destroy()
      await turn
      await closed
    },
  }
}

/**
 * Makes the session that of `user`, as a Postgres login would: the role must exist and may log in;
 * its settings (ALTER ROLE … SET, per database or not) apply; then SET SESSION AUTHORIZATION.
 * @returns {Promise<[string, string] | null>} a refusal (SQLSTATE, message), or null
 */
async function logIn(db, user, superuser) {
  if (!user) return [UNDEFINED_ROLE, 'no PostgreSQL user name specified in startup packet']
  await db.query(`SET SESSION AUTHORIZATION ${quoteIdent(superuser)}`)
  const { rows: [role] } = await db.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [user])
  if (!role) return [UNDEFINED_ROLE, `role "${user}" does not exist`]
  if (!role.rolcanlogin) return [UNDEFINED_ROLE, `role "${user}" is not permitted to log in`]
  // Database-wide, then the role's, then the role's in this database: the later one wins.
  const { rows: settings } = await db.query(
    `SELECT split_part(c.s, '=', 1) AS name, substr(c.s, strpos(c.s, '=') + 1) AS value
       FROM pg_db_role_setting d CROSS JOIN LATERAL unnest(d.setconfig) WITH ORDINALITY AS c(s, n)
      WHERE (d.setrole = 0 OR d.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1))
        AND (d.setdatabase = 0 OR d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
        AND NOT (d.setrole = 0 AND d.setdatabase = 0)
      ORDER BY (d.setrole <> 0)::int + 2 * (d.setrole <> 0 AND d.setdatabase <> 0)::int, c.n`,
    [user],
  )
  for (const { name, value } of settings) await db.query('SELECT set_config($1, $2, false)', [name, value])
  await db.query(`SET SESSION AUTHORIZATION ${quoteIdent(user)}`)
  return null
}

/** The `user` parameter of a StartupMessage (int32 length, int32 protocol, then name/value pairs). */
function startupUser(message) {
  const fields = message.subarray(8).toString('utf8').split('\0')
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'user') return fields[i + 1]
  return ''
}

function quoteIdent(name) {
  return `"${String(name).replace(/"/g, '""')}"`
}

/** A client socket cut into protocol messages: untyped during startup, then type byte + length. */
class Connection {
  /** @param {import('node:net').Socket} socket */
  constructor(socket) {
    this.socket = socket
    this.buffer = Buffer.alloc(0)
    this.started = false
    this.closed = false
    /** @type {Buffer[]} messages for PGlite, in order */
    this.queue = []
    /** @type {(() => void) | null} */
    this.wake = null
    /** @type {[string, string] | null} refuse at the startup message */
    this.refusal = null
    socket.setNoDelay(true)
    socket.on('data', (chunk) => this.receive(chunk))
    socket.on('close', () => this.markClosed())
    socket.on('error', () => this.markClosed())
  }

  receive(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
    while (!this.closed) {
      const headerBytes = this.started ? 5 : 8
      if (this.buffer.length < headerBytes) break
      const length = this.started ? 1 + this.buffer.readInt32BE(1) : this.buffer.readInt32BE(0)
      if (length < headerBytes || length > MAX_MESSAGE_BYTES) return this.fail('08P01', 'invalid message length')
      if (this.buffer.length < length) break
      const message = this.buffer.subarray(0, length)
      this.buffer = this.buffer.subarray(length)
      if (this.started) {
        this.queue.push(message)
        continue
      }
      const code = message.readInt32BE(4)
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N') // no TLS on loopback
      } else if (code === CANCEL_REQUEST) {
        this.destroy() // PGlite cannot interrupt a running query; Postgres also answers nothing
      } else if (code === PROTOCOL_3) {
        if (this.refusal) return this.fail(...this.refusal)
        this.started = true
        this.queue.push(message)
      } else {
        return this.fail('08P01', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: the demo database speaks 3.0`)
      }
    }
    this.wake?.()
  }

  /**
   * The next message, null once the client is gone, or 'idle' after idleMs without one while
   * `othersWait()`.
   * @returns {Promise<Buffer | null | 'idle'>}
   */
  async next(idleMs, othersWait) {
    for (;;) {
      if (this.queue.length) return /** @type {Buffer} */ (this.queue.shift())
      if (this.closed) return null
      const woke = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), idleMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve(true)
        }
      })
      this.wake = null
      if (!woke && othersWait()) return 'idle'
    }
  }

  write(data) {
    if (!this.closed) this.socket.write(data)
  }

  /** Refuses this connection at its startup message (after any SSLRequest), as Postgres does. */
  refuse(code, message) {
    this.refusal = [code, message]
    this.receive(Buffer.alloc(0))
  }

  /** A FATAL ErrorResponse, then the connection ends. */
  fail(code, message) {
    if (!this.closed) {
      this.socket.end(errorResponse(code, message))
      // A client that never closes its side must not keep the socket.
      setTimeout(() => this.socket.destroy(), 1000).unref()
    }
    this.markClosed()
  }

  destroy() {
    // After fail(), end() is delivering the error: let it.
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.destroy()
    this.markClosed()
  }

  markClosed() {
    this.closed = true
    this.queue.length = 0
    this.wake?.()
  }
}

function errorResponse(code, message) {
  return typed('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', code), field('M', message), Buffer.from([0])]))
}

function field(type, value) {
  return Buffer.concat([Buffer.from(type, 'latin1'), cstring(value)])
}

function cstring(text) {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])])
}

function typed(type, body = Buffer.alloc(0)) {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}
