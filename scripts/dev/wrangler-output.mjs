// What of wrangler dev's output `npm start` shows (issue 34: the first screen was 55 lines of
// bindings before "ready"). All of it goes to a log file whose path is printed; the screen gets
// what a person acts on: wrangler's errors, the worker's refresh lines, and once the service is
// ready the worker's own request log. `npm start -- --verbose` shows everything as before.
import { appendFileSync, writeFileSync } from 'node:fs'

const ANSI = /\x1b\[[0-9;]*m/g
// Said by wrangler about files npm start writes (the derived Hyperdrive configuration), not the
// user's: `npm run check` keeps worker-configuration.d.ts current for wrangler.toml.
const NOT_THEIRS = [/Your types might be out of date/]
const TAIL_LINES = 20

/**
 * @param {{ file: string, verbose: boolean, print: (line: string, stream: 'stdout' | 'stderr') => void }} options
 */
export function wranglerOutput({ file, verbose, print }) {
  writeFileSync(file, '', { mode: 0o600 })
  let ready = false
  /** @type {string[]} */
  const tail = []
  return {
    /** @param {string} line @param {'stdout' | 'stderr'} stream */
    onLine(line, stream) {
      const plain = line.replace(ANSI, '')
      appendFileSync(file, `${plain}\n`)
      tail.push(plain)
      if (tail.length > TAIL_LINES) tail.shift()
      if (NOT_THEIRS.some((re) => re.test(plain))) return
      if (verbose || shownOnScreen(plain, ready)) print(line, stream)
    },
    /** From now on the worker's request log is shown too. */
    markReady() {
      ready = true
    },
    /** wrangler's last lines: what to show when it ended before it was ready. */
    tail: () => [...tail],
  }
}

/** Whether a line of wrangler dev's output (colours removed) is one a person needs on the first screen. */
export function shownOnScreen(plain, ready) {
  if (/\[ERROR\]|^\s*✘/.test(plain)) return true
  // The worker's own JSON log lines: its refresh outcome always, its requests once it is ready.
  if (plain.trimStart().startsWith('{')) return ready || /"refresh"/.test(plain)
  return false
}
