import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { startDemoDatabase } from '../../scripts/demo-database.mjs'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { settingNames } from '../../scripts/dev/settings.mjs'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { freePort, portIsFree } from '../../scripts/free-port.mjs'
import { processTree, stillRunning, type Proc } from './process-tree'

// `npm start` and `npm run dev` as people start and stop them: the real npm, its `sh -c`, and
// signals sent to npm's own pid (what `timeout`, a process manager or a container runtime sends),
// never to the process group. What was started is recorded from /proc before the signal, and
// checked afterwards by pid and by port.

const root = join(import.meta.dirname, '..', '..')
/** A frame of a Node stack trace. */
const STACK_FRAME = /^\s+at .*(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m
const STOPPED_WITHIN_MS = 10_000

type Run = { pid: number; output: () => string; devLines: () => string[]; exited: Promise<{ code: number | null; signal: string | null }>; waitFor: (re: RegExp, ms?: number) => Promise<void> }

let demoDir: string
const scratch: string[] = []
const runs: Run[] = []

/** A fresh directory, removed after the file. */
function tempDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  scratch.push(dir)
  return dir
}

/** Runs `command` as a user's shell would, with no setting of the worker in its environment. */
function run(command: string, args: string[], env: Record<string, string>): Run {
  const clean: Record<string, string> = {}
  const drop = new Set<string>(settingNames(root))
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !drop.has(k)) clean[k] = v
  Object.assign(clean, { npm_config_update_notifier: 'false', DEMO_DB_DIR: demoDir }, env)
  const child = spawn(command, args, { cwd: root, env: clean, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  let done = false
  void exited.then(() => (done = true))
  const self: Run = {
    pid: child.pid!,
    output: () => out,
    devLines: () => out.split('\n').filter((l) => l.startsWith('[dev]')),
    exited,
    waitFor: async (re, ms = 120_000) => {
      const deadline = Date.now() + ms
      while (!re.test(out)) {
        if (done) throw new Error(`exited before ${re}:\n${out}`)
        if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms:\n${out}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
  }
  runs.push(self)
  return self
}

const npmStart = (env: Record<string, string>, script = 'start') => run('npm', script === 'start' ? ['start'] : ['run', script], env)

/** A state directory and port of its own for one start. */
async function ownState() {
  return { PORT: String(await freePort()), WRANGLER_PERSIST_TO: tempDir('txt2sql-state-') }
}

/** The processes of a start that is ready: npm, dev.mjs, the PGlite process, wrangler, workerd. */
function recordTree(npmPid: number): Proc[] {
  const tree = processTree(npmPid)
  const commands = tree.map((p) => p.command).join('\n')
  // A record that misses a part would prove nothing about that part.
  for (const part of ['scripts/dev.mjs', 'pglite-child.mjs', 'wrangler.js', 'workerd']) expect(commands, commands).toContain(part)
  return tree
}

/** Waits up to STOPPED_WITHIN_MS for every recorded process to be gone and the port to be free. */
async function expectAllGone(tree: Proc[], port: number) {
  const deadline = Date.now() + STOPPED_WITHIN_MS
  let left = stillRunning(tree)
  let free = await portIsFree(port)
  while ((left.length || !free) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
    left = stillRunning(tree)
    free = await portIsFree(port)
  }
  expect(left.map((p) => `${p.pid} ${p.command}`)).toEqual([])
  expect(free).toBe(true)
}

/** Holds `port` with a server that claims to be a ready txt2sql-edge. */
function impostor(port: number): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"schema_version":"pg-impostor","model":"x","execute":false}'))
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

beforeAll(async () => {
  // One demo database for every start of this file (one at a time), loaded once: the starts then
  // take seconds instead of the first load's minute.
  demoDir = tempDir('txt2sql-demo-db-')
  const demo = await startDemoDatabase({ dataDir: demoDir })
  await demo.close()
}, 180_000)

afterEach(async () => {
  // A failed test must not leave its start running for the next one.
  for (const r of runs.splice(0)) {
    for (const p of stillRunning(processTree(r.pid)).reverse()) {
      try {
        process.kill(p.pid, 'SIGKILL')
      } catch {}
    }
  }
})

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
})

describe('npm start fails fast and honestly', () => {
  it('a setting the worker would refuse stops it at once: the cause in one line, no stack trace, exit code 1', async () => {
    const start = npmStart({ ...(await ownState()), MAX_BODY_BYTES: 'abc' })
    expect(await start.exited).toEqual({ code: 1, signal: null })
    expect(start.devLines()).toEqual(['[dev] cannot start: MAX_BODY_BYTES must be a non-negative integer'])
    expect(start.output()).not.toMatch(STACK_FRAME)
    expect(start.output()).not.toMatch(/wrangler|demo database/)
  })

  it('a port in use stops it within seconds with one line naming the port and PORT=…, and never reads "ready" from what answers there', async () => {
    const state = await ownState()
    const held = await impostor(Number(state.PORT))
    try {
      const start = npmStart(state)
      expect((await start.exited).code).not.toBe(0)
      const port = Number(state.PORT)
      expect(start.devLines()).toEqual([`[dev] port ${port} is already in use (another npm start, or another program): stop it, or choose another port: PORT=${port + 1} npm start`])
      expect(start.output()).not.toMatch(/is ready on|Ready on/)
      expect(start.output()).not.toMatch(STACK_FRAME)
    } finally {
      held.close()
    }
  })

  it('a port taken after that check, before wrangler binds it, ends it the same way, with nothing left running', async () => {
    const state = await ownState()
    const port = Number(state.PORT)
    const start = npmStart(state)
    let held: Server | undefined
    // Everything the start ever ran, recorded until it ends.
    const seen = new Map<string, Proc>()
    const record = setInterval(() => {
      for (const p of processTree(start.pid)) seen.set(`${p.pid}/${p.start}`, p)
    }, 100)
    try {
      // npm start holds the port itself until it starts wrangler: take it the moment it lets go.
      await start.waitFor(/\[dev\] no DASHSCOPE_API_KEY/)
      while (!held) {
        held = await impostor(port).catch(() => undefined)
        if (!held) await new Promise((r) => setTimeout(r, 10))
      }
      expect((await start.exited).code).not.toBe(0)
      clearInterval(record)
      // It got as far as wrangler, whose output is in the log file the start named, not on the screen.
      const log = /its output goes to (\S+)/.exec(start.output())?.[1]
      expect(readFileSync(resolve(root, log!), 'utf8')).toContain('⛅️ wrangler')
      expect(start.output()).not.toContain('Your Worker has access to the following bindings')
      expect(start.devLines().at(-1)).toBe(`[dev] port ${port} is already in use (another npm start, or another program): stop it, or choose another port: PORT=${port + 1} npm start`)
      expect(start.output()).not.toMatch(/is ready on|Ready on/)
      expect(start.output()).not.toMatch(STACK_FRAME)
      // wrangler ran: its bin script, or the CLI that script re-executes (a sample may catch only the latter).
      expect([...seen.values()].map((p) => p.command).join('\n')).toMatch(/wrangler\/(bin\/wrangler\.js|wrangler-dist\/cli\.js)/)
      const left = stillRunning([...seen.values()])
      expect(left.map((p) => `${p.pid} ${p.command}`)).toEqual([])
    } finally {
      clearInterval(record)
      held?.close()
    }
  })
})

describe('stop means stop: a signal to npm\'s own pid ends everything it started and frees the port', () => {
  for (const [signal, script] of [['SIGTERM', 'start'], ['SIGINT', 'dev'], ['SIGHUP', 'start']] as const) {
    it(`${signal} to \`npm ${script === 'start' ? 'start' : 'run dev'}\``, async () => {
      const state = await ownState()
      const start = npmStart(state, script)
      await start.waitFor(/\[dev\] txt2sql-edge is ready on/)
      expect(start.output()).not.toMatch(STACK_FRAME)
      const tree = recordTree(start.pid)
      process.kill(start.pid, signal)
      await start.exited
      await expectAllGone(tree, Number(state.PORT))
      expect(start.output()).not.toMatch(STACK_FRAME)
    }, 180_000)
  }

  it('`timeout -s TERM … npm start` leaves no process and a free port', async () => {
    const state = await ownState()
    const start = run('timeout', ['-s', 'TERM', '60', 'npm', 'start'], state)
    await start.waitFor(/\[dev\] txt2sql-edge is ready on/)
    const tree = processTree(start.pid)
    recordTree(tree.find((p) => p.command.startsWith('npm'))!.pid)
    expect(await start.exited).toEqual({ code: 124, signal: null })
    await expectAllGone(tree, Number(state.PORT))
  }, 180_000)
})

describe('one checkout, one npm start per state directory', () => {
  it('a second start in the same state directory refuses within seconds, naming the running one and how to run a second; the first keeps serving', async () => {
    const state = await ownState()
    const first = npmStart(state)
    await first.waitFor(/\[dev\] txt2sql-edge is ready on/)
    const firstDev = processTree(first.pid).find((p) => p.command.includes('scripts/dev.mjs'))!
    const secondPort = await freePort()
    const second = npmStart({ ...state, PORT: String(secondPort) })
    expect((await second.exited).code).toBe(1)
    expect(second.devLines()).toEqual([
      `[dev] another npm start (pid ${firstDev.pid}, http://127.0.0.1:${state.PORT}) is using this state directory (${state.WRANGLER_PERSIST_TO}): stop it first, ` +
        `or run a second one with its own state directory and port: WRANGLER_PERSIST_TO=${state.WRANGLER_PERSIST_TO}-2 PORT=${secondPort + 1} npm start`,
    ])
    expect(second.output()).not.toMatch(/demo database|wrangler/)
    expect((await fetch(`http://127.0.0.1:${state.PORT}/healthz`)).status).toBe(200)

    // Killed outright: no handler runs. Its wrangler and PGlite end themselves, and what is left
    // of it (nothing: the lock is the kernel's) does not block the next start.
    const tree = recordTree(first.pid)
    process.kill(firstDev.pid, 'SIGKILL')
    await expectAllGone(tree, Number(state.PORT))
    const third = npmStart(state)
    await third.waitFor(/\[dev\] txt2sql-edge is ready on/)
    expect((await fetch(`http://127.0.0.1:${state.PORT}/healthz`)).status).toBe(200)
    const thirdTree = recordTree(third.pid)
    process.kill(third.pid, 'SIGTERM')
    await expectAllGone(thirdTree, Number(state.PORT))
  }, 300_000)
})
