// `wrangler dev` as `npm start` runs it: in a process group of its own (wrangler, its workerd
// processes and esbuild), so stopping it stops all of them, and with scripts/dev/exit-with-parent.mjs
// preloaded, so the group ends itself if scripts/dev.mjs is killed outright. Its output is passed
// through line by line, which is also how we know the server answering on the port is the one it
// started: wrangler says "Ready on <url>" only once its own workerd listens there.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const ANSI = /\x1b\[[0-9;]*m/g
const STOP_GRACE_MS = 5000

/**
 * @param {{ root: string, port: number, stateDir: string, envFile: string, args?: string[], env?: Record<string, string>, onLine?: (line: string, stream: 'stdout' | 'stderr') => void }} options
 *   args, env: what the way to the database adds (scripts/dev/database.mjs: a derived config, wrangler's own variables)
 * @returns {{ pid: number, ready: Promise<void>, exited: Promise<{ code: number | null, signal: string | null, portInUse: boolean }>, stop: () => Promise<void> }}
 */
export function startWrangler({ root, port, stateDir, envFile, args = [], env: extraEnv = {}, onLine = printLine }) {
  const env = { ...process.env, ...extraEnv, WRANGLER_SEND_METRICS: 'false' }
  // Request.cf: miniflare would fetch it from workers.cloudflare.com at every start (a stack trace
  // when offline). The worker does not read it; wrangler's placeholder is enough.
  if (env.CLOUDFLARE_CF_FETCH_ENABLED === undefined && env.CLOUDFLARE_CF_FETCH_PATH === undefined) env.CLOUDFLARE_CF_FETCH_ENABLED = 'false'
  // Its output reaches a terminal through us: keep its colours there.
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined) env.FORCE_COLOR = '1'
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(join(root, 'scripts', 'dev', 'exit-with-parent.mjs')).href, join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
      'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', stateDir, '--env-file', envFile,
      '--show-interactive-dev-session=false', '--test-scheduled', ...args],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  )
  const pid = /** @type {number} */ (child.pid)
  let portInUse = false
  /** @type {() => void} */
  let markReady = () => {}
  const ready = new Promise((resolve) => (markReady = () => resolve(undefined)))
  const readyLine = `Ready on http://127.0.0.1:${port}`
  for (const [stream, source] of /** @type {const} */ ([['stdout', child.stdout], ['stderr', child.stderr]])) {
    let rest = ''
    source.setEncoding('utf8')
    source.on('data', (text) => {
      const lines = (rest + text).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        const plain = line.replace(ANSI, '')
        if (plain.includes(readyLine)) markReady()
        // Said by us in one line, with the setting that chooses another port (scripts/dev.mjs).
        if (/Address already in use/.test(plain)) {
          portInUse = true
          continue
        }
        onLine(line, stream)
      }
    })
    source.on('end', () => rest && onLine(rest, stream))
  }
  // Its last lines may still be in the pipes when it exits (and a straggler of its group may hold
  // them open): read what comes within a moment, then report.
  const drained = Promise.all([child.stdout, child.stderr].map((s) => new Promise((r) => s.once('close', r))))
  const exited = new Promise((resolve) =>
    child.once('exit', async (code, signal) => {
      await Promise.race([drained, new Promise((r) => setTimeout(r, 500))])
      resolve({ code, signal, portInUse })
    }),
  )
  let left = false
  exited.then(() => (left = true))

  const signalGroup = (signal) => {
    try {
      process.kill(-pid, signal)
    } catch {}
  }
  let stopping
  return {
    pid,
    ready,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        if (!left) {
          signalGroup('SIGTERM')
          await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_GRACE_MS))])
        }
        // wrangler gone (or not going): nothing of its group may outlive it.
        signalGroup('SIGKILL')
      })()),
  }
}

function printLine(line, stream) {
  ;(stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`)
}
