// Starts `npm start` (scripts/dev.mjs → wrangler dev) on a free port with its own state directory
// (KV, the demo database, the settings file), and waits until it answers. Shared by the end-to-end
// tests and the benchmarks.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './free-port.mjs'

export { freePort }

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * @param {Record<string, string | undefined>} env overrides; `undefined` removes a variable
 * @returns {Promise<{ url: string, pid: number, stateDir: string, output: () => string, stop: () => Promise<void> }>}
 *   stateDir: its state directory (removed by stop)
 */
export async function startDevServer(env = {}) {
  const port = await freePort()
  const persist = mkdtempSync(join(tmpdir(), 'txt2sql-kv-'))
  let out = ''
  const clean = {}
  for (const [k, v] of Object.entries({ ...process.env, PORT: String(port), WRANGLER_PERSIST_TO: persist, ...env })) if (v !== undefined) clean[k] = v
  const child = spawn(process.execPath, [join(root, 'scripts', 'dev.mjs')], { cwd: root, env: clean, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  // Keep only the recent output: a long benchmark run must not grow this without bound.
  const keep = (d) => {
    out += d
    if (out.length > 256 * 1024) out = out.slice(-128 * 1024)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  // Below the tests' 90 s hook timeout, so a start that fails is cleaned up here, not abandoned.
  const deadline = Date.now() + 85_000
  // A start that fails, or a test process that exits while it waits (a hook timeout), must not
  // leave wrangler, workerd and the demo database running: each leftover slows every later start.
  const killOnExit = () => {
    if (child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
  }
  process.once('exit', killOnExit)
  /** Stops it as a signal to `npm start` does: dev.mjs stops wrangler, workerd and the demo database, then exits. */
  const stopChild = async () => {
    process.off('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      process.kill(-child.pid, 'SIGTERM')
      // dev.mjs bounds its own stop; a hung one is not waited for forever (its wrangler ends
      // itself once dev.mjs is gone: scripts/dev/exit-with-parent.mjs).
      const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(persist, { recursive: true, force: true })
  }
  const abandon = async (message) => {
    await stopChild()
    return new Error(message)
  }
  for (;;) {
    if (child.exitCode !== null) throw await abandon(`dev server exited: ${out}`)
    // Ready (200) once the schema cache is filled: dev.mjs refreshes it from the database at
    // start, and says "not ready" when that failed.
    const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
      (res) => res.arrayBuffer().then(() => res.status),
      () => 0, // not up yet
    )
    if (status === 200 && /is ready on/.test(out)) break
    if (/\[dev\] not ready/.test(out)) throw await abandon(`dev server not ready: ${out}`)
    if (Date.now() > deadline) throw await abandon(`dev server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  return {
    url,
    pid: child.pid,
    stateDir: persist,
    output: () => out,
    stop: stopChild,
  }
}
