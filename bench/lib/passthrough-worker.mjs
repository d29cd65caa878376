// The floor any Worker in front of DashScope pays: a pass-through Worker (the request forwarded,
// the upstream body returned untouched) in the same runtime as ours. Its cost against the direct
// baseline is the platform's hop; ours minus it is what our code adds. Under /js/ the body passes
// through one JavaScript ReadableStream (each upstream read re-enqueued, nothing parsed): the floor
// of any Worker that looks at the bytes at all.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../scripts/start-dev-server.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const PASSTHROUGH_SCRIPT = `export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const js = url.pathname.startsWith('/js/')
    const path = js ? url.pathname.slice(3) : url.pathname
    const upstream = await fetch(env.UPSTREAM + path + url.search, { method: request.method, headers: request.headers, body: request.body })
    let body = upstream.body
    if (js && body) {
      const reader = body.getReader()
      body = new ReadableStream({
        async pull(controller) {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        },
        cancel: (reason) => reader.cancel(reason),
      }, { highWaterMark: 0 })
    }
    return new Response(body, { status: upstream.status, headers: upstream.headers })
  },
}`

const COMPATIBILITY_DATE = '2026-04-01'
const COMPATIBILITY_FLAGS = ['nodejs_compat']

/**
 * One Worker of one ES module (`script`) in process, through wrangler's Miniflare 5 (per worker:
 * `{ config, dev }`), with this bench's compatibility settings. `env` holds Miniflare 5 bindings
 * (`{ type: 'text', value }`, `{ type: 'kv', id }`); `inspectorPort` opens the DevTools protocol.
 */
export async function startScriptWorker({ name, script, env = {}, inspectorPort }) {
  const { Miniflare } = await import('../../node_modules/wrangler/node_modules/miniflare/dist/src/index.js')
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    enableDevRegistry: false,
    workers: [{
      config: {
        name,
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: COMPATIBILITY_FLAGS,
        manifest: { mainModule: `${name}.mjs`, modules: { [`${name}.mjs`]: { type: 'esm', contents: script } } },
        env,
      },
    }],
  })
  const url = (await mf.ready).origin
  return { url, pid: process.pid, stop: () => mf.dispose() }
}

/** The pass-through Worker in process. */
export function startPassthrough(upstreamUrl) {
  return startScriptWorker({ name: 'passthrough', script: PASSTHROUGH_SCRIPT, env: { UPSTREAM: { type: 'text', value: upstreamUrl } } })
}

/**
 * The same Worker under `wrangler dev` (its own project in a temporary directory): the floor of
 * every wrangler dev row, since wrangler dev's entry worker and proxy sit in front of any Worker.
 * `pid` is wrangler's process; its workerd runs below it.
 */
export async function startPassthroughDev(upstreamUrl) {
  // A free port can be taken by another process before wrangler binds it: tried again, twice.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPassthroughDevOnce(upstreamUrl)
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err
    }
  }
}

async function startPassthroughDevOnce(upstreamUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-passthrough-'))
  writeFileSync(join(dir, 'passthrough.mjs'), PASSTHROUGH_SCRIPT)
  writeFileSync(join(dir, 'wrangler.toml'), [
    'name = "passthrough"',
    'main = "passthrough.mjs"',
    `compatibility_date = "${COMPATIBILITY_DATE}"`,
    `compatibility_flags = ${JSON.stringify(COMPATIBILITY_FLAGS)}`,
    '[vars]',
    `UPSTREAM = ${JSON.stringify(upstreamUrl)}`,
    '',
  ].join('\n'))
  const port = await freePort()
  const child = spawn(process.execPath, [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', join(dir, 'state'), '--show-interactive-dev-session=false'], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let out = ''
  const keep = (d) => (out = (out + d).slice(-64 * 1024))
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null) {
      process.kill(-child.pid, 'SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 300_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`pass-through wrangler dev exited: ${out}`)
    }
    try {
      // Forwarded to the fake, which answers its health check.
      const res = await fetch(`${url}/__fake/health`)
      await res.arrayBuffer()
      if (res.status === 200) break
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`pass-through wrangler dev did not start: ${out}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { url, pid: child.pid, stop }
}
