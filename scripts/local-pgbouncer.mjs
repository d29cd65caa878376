// Starts a throwaway PgBouncer in transaction mode in front of a local Postgres (the test setup
// uses it): every transaction may land on whichever server session is free, as behind Neon's
// pooled endpoint or Hyperdrive. With one server session per database, consecutive clients are
// guaranteed to share it, which is what the tests need to see state left behind.
// Binary: PGBOUNCER, else /usr/sbin/pgbouncer (Debian: apt-get install pgbouncer). As root it runs as
// the `postgres` user (PgBouncer refuses root).
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.mjs'

export function findPgBouncer() {
  const bin = process.env.PGBOUNCER || '/usr/sbin/pgbouncer'
  if (!existsSync(bin)) throw new Error(`PgBouncer is not installed: expected ${bin} (apt-get install pgbouncer), or set PGBOUNCER`)
  return bin
}

/**
 * @param {{ serverPort: number, users: Record<string, string>, poolSize?: number }} options
 *   users: role → password (PgBouncer logs in to Postgres with them)
 * @returns {Promise<{ port: number, stop: () => void }>}
 */
export async function startLocalPgBouncer({ serverPort, users, poolSize = 1 }) {
  const bin = findPgBouncer()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-pgbouncer-'))
  const quote = (s) => `"${String(s).replace(/"/g, '""')}"`
  writeFileSync(join(dir, 'users.txt'), Object.entries(users).map(([u, p]) => `${quote(u)} ${quote(p)}`).join('\n') + '\n', { mode: 0o600 })
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `* = host=127.0.0.1 port=${serverPort}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}`,
    'auth_type = scram-sha-256',
    `auth_file = ${join(dir, 'users.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 200',
    // Neither is a session setting a pooler could keep per client; drivers send them at startup.
    'ignore_startup_parameters = extra_float_digits,options',
    `logfile = ${join(dir, 'log')}`,
    `pidfile = ${join(dir, 'pid')}`,
    '',
  ].join('\n'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    for (const f of ['', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), uid, gid)
  }
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, '-d', '-q', join(dir, 'pgbouncer.ini')]] : [bin, ['-d', '-q', join(dir, 'pgbouncer.ini')]]
  const r = spawnSync(file, argv, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`pgbouncer failed (${r.status}): ${r.stderr || r.stdout}`)
  const log = () => (existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '')
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (Date.now() > deadline) throw new Error(`pgbouncer did not start: ${log()}`)
    await new Promise((res) => setTimeout(res, 50))
  }
  let stopped = false
  return {
    port,
    stop: () => {
      if (stopped) return
      stopped = true
      try {
        const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim())
        if (pid > 0) process.kill(pid, 'SIGTERM')
      } catch {
        // already gone
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

