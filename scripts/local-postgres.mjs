// Starts a throwaway real PostgreSQL server from the binaries installed on the machine
// (/usr/lib/postgresql/<major>/bin, or PG_BIN). Used by the test setup and the benchmarks.
// As root, the server runs as the `postgres` user (initdb refuses root).
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.mjs'

export function findPgBin() {
  if (process.env.PG_BIN) return process.env.PG_BIN
  const base = '/usr/lib/postgresql'
  const majors = existsSync(base) ? readdirSync(base).filter((d) => existsSync(join(base, d, 'bin', 'postgres'))) : []
  majors.sort((a, b) => Number(b) - Number(a))
  if (!majors.length) throw new Error('PostgreSQL is not installed: expected /usr/lib/postgresql/<major>/bin (apt-get install postgresql), or set PG_BIN')
  return join(base, majors[0], 'bin')
}


/**
 * @param {{ port?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<{ port: number, url: (user?: string, password?: string, database?: string) => string, psql: (sql: string, database?: string) => string, stop: () => void }>}
 */
export async function startLocalPostgres(options = {}) {
  const bin = findPgBin()
  const port = options.port ?? (await freePort())
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-pg-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'))
  const run = (cmd, args) => {
    const full = join(bin, cmd)
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args]
    const r = spawnSync(file, argv, { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`)
    return r.stdout
  }
  run('initdb', ['-D', join(dir, 'data'), '-A', 'scram-sha-256', '--pwfile', writePw(dir, asRoot), '-U', 'postgres', '-E', 'UTF8', '--locale', 'C.UTF-8', '--no-sync'])
  run('pg_ctl', ['-D', join(dir, 'data'), '-w', '-l', join(dir, 'log'), '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`, 'start'])
  options.log?.(`[postgres] ${bin} on 127.0.0.1:${port}`)
  const url = (user = 'postgres', password = 'postgres', database = 'postgres') =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`
  let stopped = false
  return {
    port,
    url,
    psql: (sql, database = 'postgres') =>
      execFileSync(join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', url('postgres', 'postgres', database)], { input: sql, encoding: 'utf8' }),
    stop: () => {
      if (stopped) return
      stopped = true
      try {
        run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

function writePw(dir, asRoot) {
  const file = join(dir, 'pw')
  execFileSync('sh', ['-c', `printf postgres > '${file}'`])
  if (asRoot) chownSync(file, uidOf('postgres'), gidOf('postgres'))
  return file
}

function uidOf(user) {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim())
}
function gidOf(user) {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim())
}
