#!/usr/bin/env node
// What the tests need from the machine beyond npm, in one place: `npm test` runs this first
// (package.json `pretest`). Everything present: it does nothing (a few file checks, one python
// import). Something missing: as root on Debian it installs the packages with apt-get; otherwise it
// stops within seconds with one message naming what is missing and the command that installs it.
// Plain Node (20 or 24), no dependencies: it runs before anything else is known to work.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Each thing the tests use, the Debian packages that provide it, and how to tell it is there —
 * honouring the variable the tests read to find it elsewhere (`override`: PG_BIN, PGBOUNCER,
 * CHROMIUM_PATH, SEED_PYTHON), which no package can fix when it points at nothing.
 * @type {{ what: string, packages: string[], override?: string, present: (probe: Probe) => boolean }[]}
 */
export const PREREQUISITES = [
  { what: 'PostgreSQL server (the database tests start one)', packages: ['postgresql', 'postgresql-contrib'], override: 'PG_BIN', present: (p) => (p.env.PG_BIN ? p.exists(join(p.env.PG_BIN, 'postgres')) : p.list('/usr/lib/postgresql').some((major) => p.exists(`/usr/lib/postgresql/${major}/bin/postgres`))) },
  { what: 'PgBouncer (the tests pool sessions in transaction mode)', packages: ['pgbouncer'], override: 'PGBOUNCER', present: (p) => p.exists(p.env.PGBOUNCER || '/usr/sbin/pgbouncer') },
  { what: 'Chromium (the playground tests drive it)', packages: ['chromium'], override: 'CHROMIUM_PATH', present: (p) => p.exists(p.env.CHROMIUM_PATH || '/usr/bin/chromium') },
  { what: "a CJK font (Chinese in the playground's screenshots)", packages: ['fonts-wqy-microhei'], present: (p) => p.exists('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc') },
  { what: "tmux (the terminal client's tests run it in a real terminal)", packages: ['tmux'], present: (p) => p.onPath('tmux') },
  { what: "python3 with requests (the old service's client)", packages: ['python3', 'python3-requests'], override: 'SEED_PYTHON', present: (p) => p.succeeds(p.env.SEED_PYTHON || 'python3', ['-c', 'import requests']) },
  { what: "curl and jq (the README's and docs/API.md's examples are run as written)", packages: ['curl', 'jq'], present: (p) => p.onPath('curl') && p.onPath('jq') },
]

/**
 * @typedef {{ env: Record<string, string | undefined>, exists: (path: string) => boolean, list: (dir: string) => string[],
 *   onPath: (command: string) => boolean, succeeds: (command: string, args: string[]) => boolean }} Probe
 * @typedef {{ probe: Probe, isRoot: boolean, isDebian: boolean, install: (packages: string[]) => boolean, log: (line: string) => void }} Machine
 */

/** Returns the exit code: 0 when everything is (now) present. */
export function ensurePrerequisites(/** @type {Machine} */ machine) {
  const absent = PREREQUISITES.filter((p) => !p.present(machine.probe))
  if (!absent.length) return 0
  const misdirected = absent.filter((p) => p.override && machine.probe.env[p.override])
  if (misdirected.length) {
    machine.log(`The tests are told to look where nothing is:\n${misdirected.map((p) => `  - ${p.what}: ${p.override}=${machine.probe.env[p.override]}`).join('\n')}\nFix or unset ${misdirected.map((p) => p.override).join(', ')}, then run npm test again.`)
    return 1
  }
  const missing = absent
  const packages = [...new Set(missing.flatMap((p) => p.packages))]
  if (machine.isRoot && machine.isDebian) {
    machine.log(`[test prerequisites] installing ${packages.join(' ')} (apt-get)…`)
    const installed = machine.install(packages)
    const still = PREREQUISITES.filter((p) => !p.present(machine.probe))
    if (installed && !still.length) return 0
    machine.log(`[test prerequisites] apt-get ${installed ? 'ran, but these are still missing' : 'failed'}:\n${list(still.length ? still : missing)}`)
    return 1
  }
  const command = `${machine.isRoot ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`
  machine.log(
    `The tests need what this machine lacks:\n${list(missing)}\n` +
      (machine.isDebian ? `Install it (as root) and run npm test again:\n  ${command}` : `Install it with your system's package manager (on Debian or Ubuntu: ${command}), then run npm test again.`),
  )
  return 1
}

function list(prerequisites) {
  return prerequisites.map((p) => `  - ${p.what}: Debian package${p.packages.length > 1 ? 's' : ''} ${p.packages.join(', ')}`).join('\n')
}

/** This machine, for real. */
export function thisMachine(env = process.env) {
  const run = (command, args, options = {}) => spawnSync(command, args, { stdio: 'ignore', timeout: 10_000, ...options })
  return {
    probe: {
      env,
      exists: (path) => existsSync(path),
      list: (dir) => (existsSync(dir) ? readdirSync(dir) : []),
      onPath: (command) => (env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, command))),
      succeeds: (command, args) => run(command, args).status === 0,
    },
    isRoot: process.getuid?.() === 0,
    isDebian: existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get'),
    install: (packages) => {
      const options = { stdio: 'inherit', timeout: 30 * 60_000, env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } }
      return run('/usr/bin/apt-get', ['update', '-qq'], options).status === 0 && run('/usr/bin/apt-get', ['install', '-y', '-qq', ...packages], options).status === 0
    },
    log: (line) => console.error(line),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = ensurePrerequisites(thisMachine())
