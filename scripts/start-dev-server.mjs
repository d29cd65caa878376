// Starts `npm start` (scripts/dev.mjs → wrangler dev) on a free port with its own KV state, and
// waits until it answers. Shared by the end-to-end tests and the benchmarks.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * @param {Record<string, string | undefined>} env overrides; `undefined` removes a variable
 * @returns {Promise<{ url: string, pid: number, output: () => string, stop: () => Promise<void> }>}
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
  const deadline = Date.now() + 90_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dev server exited: ${out}`)
    try {
      const res = await fetch(`${url}/healthz`)
      await res.arrayBuffer()
      // Ready (200) once the schema cache is filled: dev.mjs refreshes it from the database at
      // start, and says "not ready" when that failed.
      if (res.status === 200) break
      if (/\[dev\] not ready/.test(out)) throw new Error(`dev server not ready: ${out}`)
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`dev server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  return {
    url,
    pid: child.pid,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        process.kill(-child.pid, 'SIGTERM')
        await new Promise((r) => child.once('exit', r))
      }
      rmSync(persist, { recursive: true, force: true })
    },
  }
}
