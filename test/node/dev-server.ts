import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export type DevServer = { url: string; output: () => string; stop: () => Promise<void> }

/** `npm start` as a user runs it (scripts/dev.mjs → wrangler dev), with its own KV state dir. */
export async function startDevServer(env: Record<string, string | undefined>): Promise<DevServer> {
  const port = await freePort()
  const persist = mkdtempSync(join(tmpdir(), 'txt2sql-kv-'))
  let out = ''
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, PORT: String(port), WRANGLER_PERSIST_TO: persist, ...env })) if (v !== undefined) clean[k] = v
  const child: ChildProcess = spawn(process.execPath, ['scripts/dev.mjs'], { env: clean, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dev server exited: ${out}`)
    try {
      const res = await fetch(`${url}/healthz`)
      if (res.ok || res.status === 200) break
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`dev server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  return {
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        process.kill(-child.pid!, 'SIGTERM')
        await new Promise((r) => child.once('exit', r))
      }
      rmSync(persist, { recursive: true, force: true })
    },
  }
}
