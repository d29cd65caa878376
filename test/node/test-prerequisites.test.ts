import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { ensurePrerequisites, PREREQUISITES } from '../../scripts/test-prerequisites.mjs'

// `npm test` runs scripts/test-prerequisites.mjs first (pretest). Its decisions are tested on a
// described machine; then the script runs for real as a user who cannot install (nobody).
const root = join(import.meta.dirname, '..', '..')
const EVERYTHING = ['/usr/lib/postgresql/15/bin/postgres', '/usr/sbin/pgbouncer', '/usr/bin/chromium', '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc']

function machine({ files = EVERYTHING, tmux = true, requests = true, curl = true, isRoot = true, isDebian = true, env = {}, installs = true }: { files?: string[]; tmux?: boolean; requests?: boolean; curl?: boolean; isRoot?: boolean; isDebian?: boolean; env?: Record<string, string>; installs?: boolean } = {}) {
  const present = new Set(files)
  const state = { tmux, requests, curl }
  const installed: string[][] = []
  const lines: string[] = []
  return {
    installed,
    lines,
    probe: {
      env,
      exists: (path: string) => present.has(path),
      list: (dir: string) => [...present].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1).split('/')[0]!),
      onPath: (command: string) => (command === 'tmux' ? state.tmux : ['curl', 'jq'].includes(command) && state.curl),
      succeeds: () => state.requests,
    },
    isRoot,
    isDebian,
    install: (packages: string[]) => {
      installed.push(packages)
      if (!installs) return false
      // What apt-get would put in place.
      for (const f of EVERYTHING) present.add(f)
      state.tmux = true
      state.requests = true
      state.curl = true
      return true
    },
    log: (line: string) => lines.push(line),
  }
}

describe('what the tests need from the machine', () => {
  it('is listed once, with the Debian packages that provide it', () => {
    expect(PREREQUISITES.flatMap((p: { packages: string[] }) => p.packages)).toEqual(['postgresql', 'postgresql-contrib', 'pgbouncer', 'chromium', 'fonts-wqy-microhei', 'tmux', 'python3', 'python3-requests', 'curl', 'jq'])
  })

  it('does nothing when everything is there', () => {
    const m = machine()
    expect(ensurePrerequisites(m)).toBe(0)
    expect(m.installed).toEqual([])
    expect(m.lines).toEqual([])
  })

  it('installs exactly what is missing, as root on Debian, and goes on', () => {
    const m = machine({ files: ['/usr/lib/postgresql/15/bin/postgres', '/usr/bin/chromium', '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'], tmux: false })
    expect(ensurePrerequisites(m)).toBe(0)
    expect(m.installed).toEqual([['pgbouncer', 'tmux']])
  })

  it('installs everything on a fresh machine in one apt-get', () => {
    const m = machine({ files: [], tmux: false, requests: false, curl: false })
    expect(ensurePrerequisites(m)).toBe(0)
    expect(m.installed).toEqual([['postgresql', 'postgresql-contrib', 'pgbouncer', 'chromium', 'fonts-wqy-microhei', 'tmux', 'python3', 'python3-requests', 'curl', 'jq']])
  })

  it('stops, saying what is missing, when apt-get fails', () => {
    const m = machine({ tmux: false, installs: false })
    expect(ensurePrerequisites(m)).toBe(1)
    expect(m.lines.join('\n')).toContain("apt-get failed:\n  - tmux (the terminal client's tests run it in a real terminal): Debian package tmux")
  })

  it('without root, stops with one message naming exactly what is missing and the command that installs it', () => {
    const m = machine({ files: ['/usr/lib/postgresql/15/bin/postgres', '/usr/sbin/pgbouncer', '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'], requests: false, isRoot: false })
    expect(ensurePrerequisites(m)).toBe(1)
    expect(m.installed).toEqual([])
    expect(m.lines).toEqual([
      'The tests need what this machine lacks:\n' +
        '  - Chromium (the playground tests drive it): Debian package chromium\n' +
        "  - python3 with requests (the old service's client): Debian packages python3, python3-requests\n" +
        'Install it (as root) and run npm test again:\n  sudo apt-get install -y chromium python3 python3-requests',
    ])
  })

  it('off Debian, names the packages for the system the reader has', () => {
    const m = machine({ tmux: false, isDebian: false })
    expect(ensurePrerequisites(m)).toBe(1)
    expect(m.installed).toEqual([])
    expect(m.lines.join('\n')).toContain("Install it with your system's package manager (on Debian or Ubuntu: apt-get install -y tmux), then run npm test again.")
  })

  it('installs nothing for a variable that points where nothing is, and names it', () => {
    const m = machine({ env: { PGBOUNCER: '/opt/nowhere/pgbouncer' } })
    expect(ensurePrerequisites(m)).toBe(1)
    expect(m.installed).toEqual([])
    expect(m.lines.join('\n')).toContain('PGBOUNCER=/opt/nowhere/pgbouncer')
  })

  it('honours the variables the tests read: PG_BIN, PGBOUNCER, CHROMIUM_PATH, SEED_PYTHON', () => {
    const m = machine({ files: ['/opt/pg/bin/postgres', '/opt/pgbouncer', '/opt/chrome', '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'], env: { PG_BIN: '/opt/pg/bin', PGBOUNCER: '/opt/pgbouncer', CHROMIUM_PATH: '/opt/chrome' } })
    expect(ensurePrerequisites(m)).toBe(0)
  })
})

describe('the script, run for real as a user who cannot install (nobody)', () => {
  let dir: string
  let empty: string
  beforeAll(() => {
    // A copy anyone may read: the script needs nothing beside it.
    dir = mkdtempSync(join(tmpdir(), 'txt2sql-prereq-'))
    empty = join(dir, 'path-without-tmux')
    mkdirSync(empty)
    for (const tool of ['curl', 'jq']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(empty, tool))
    copyFileSync(join(root, 'scripts/test-prerequisites.mjs'), join(dir, 'test-prerequisites.mjs'))
    for (const d of [dir, empty]) chmodSync(d, 0o755)
    chmodSync(join(dir, 'test-prerequisites.mjs'), 0o644)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const asNobody = (env: Record<string, string>) => {
    const runuser = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' }).stdout.trim()
    const [file, args] = process.getuid?.() === 0 ? [runuser, ['-u', 'nobody', '--', process.execPath, join(dir, 'test-prerequisites.mjs')]] : [process.execPath, [join(dir, 'test-prerequisites.mjs')]]
    return spawnSync(file, args, { env, encoding: 'utf8', timeout: 60_000 })
  }

  it('stops with one message and the apt-get command for what it cannot find, installing nothing', () => {
    // tmux is off this PATH, curl and jq on it (links in a directory of their own); SEED_PYTHON
    // stands in for a python with requests (nobody may have none here).
    const r = asNobody({ PATH: empty, SEED_PYTHON: '/bin/true' })
    expect(r.error).toBeUndefined()
    expect(r.status).toBe(1)
    expect(r.stderr).toBe("The tests need what this machine lacks:\n  - tmux (the terminal client's tests run it in a real terminal): Debian package tmux\nInstall it (as root) and run npm test again:\n  sudo apt-get install -y tmux\n")
  })

  it('passes silently once it finds everything', () => {
    const tmux = spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).stdout.trim()
    const r = asNobody({ PATH: `${empty}:${join(tmux, '..')}`, SEED_PYTHON: '/bin/true' })
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
  })
})
