// The examples of README.md and docs/API.md, run as written against `npm start`: a documented
// command or response that stops matching the service fails here.
//
// How a document's examples are read (to add one, write it this way; nothing is generated into the
// documents):
// - every ```sh block is a list of commands (one per line; `\` continues a line; heredocs are
//   kept whole), run in order with bash (`set -eo pipefail`) in a scratch folder inside the
//   project, against one `npm start` (scripts/start-dev-server.mjs: the embedded demo database, the
//   fake DashScope, ADMIN_TOKEN and DAILY_TOKEN_BUDGET=200000 set). All the examples of a document
//   run in document order against the same service, so a later one sees what an earlier one did;
// - `http://127.0.0.1:8787` in a command stands for that service, `$ADMIN_TOKEN` is its admin
//   token (set in the command's environment), and the terminal client (`npx txt2sql-edge`) finds it
//   through TXT2SQL_URL;
// - a command must succeed: exit 0, and no `{"error": …}` body or `event: error` in what it prints;
// - a fenced block right after a ```sh block (only blank lines between) is the output of its last
//   command, compared as test/node/doc-examples/match-output.ts says: status and headers shown,
//   event names and order, every key, booleans and code-like strings exactly, other values by type,
//   `…` for "anything here";
// - `<!-- file: NAME -->` on the line before a block saves that block as NAME in the scratch folder,
//   for the commands after it (`--data-binary @NAME`);
// - a command that cannot run here is listed in SKIPPED below with the reason; a block that looks
//   like an example (```json, ```http, or a block starting with `{`, `[`, `event:` or `HTTP/`) but
//   belongs to no command fails the test, and so does a SKIPPED entry that matches no command.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from './dev-server'
import { matchOutput } from './doc-examples/match-output'
import { readExamples, type Command, type Example } from './doc-examples/read-examples'

const root = fileURLToPath(new URL('../..', import.meta.url))
const DOCS = ['README.md', 'docs/API.md']
const DOCUMENTED_SERVICE = 'http://127.0.0.1:8787'
const ADMIN_TOKEN = `doc-admin-${process.pid}`

/** Commands (by how they begin) that cannot run against the service under test, and why. */
const SKIPPED: { doc: string; command: string; reason: string }[] = [
  { doc: 'README.md', command: 'npm ci && npm start', reason: 'installs and starts the service: these examples run against one started the same way' },
  { doc: 'README.md', command: 'npm ci && npm test', reason: 'runs every test, this one included' },
  { doc: 'README.md', command: 'PORT=9000 ', reason: 'starts a second service pointed at a DashScope on 127.0.0.1:9999 that is not there (test/node/dev-settings.test.ts covers the overrides)' },
  { doc: 'README.md', command: 'DASHSCOPE_API_KEY=sk-… DATABASE_URL=postgres://… npm start', reason: 'needs a real DashScope key and a database of your own' },
  { doc: 'README.md', command: 'DATABASE_URL=postgres://… DASHSCOPE_API_KEY=sk-… npm run eval:live', reason: 'needs a real DashScope key (test/node/eval-live.test.ts runs eval:live against npm start)' },
]

const read = DOCS.map((doc) => ({ doc, ...readExamples(join(root, doc), doc) }))
const examples = read.flatMap((r) => r.examples)
const skipOf = (doc: string, c: Command) => SKIPPED.find((s) => s.doc === doc && c.text.startsWith(s.command))

let server: DevServer
let scratch: string

beforeAll(async () => {
  server = await startDevServer({
    ADMIN_TOKEN,
    DAILY_TOKEN_BUDGET: '200000',
    // The service as a fresh clone starts it: embedded defaults, nothing else from this environment.
    DATABASE_URL: undefined, DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, DASHSCOPE_MODEL: undefined, API_KEYS: undefined, SQL_EXECUTE: undefined, NEON_WS_PROXY: undefined,
  })
  mkdirSync(join(root, '.tmp'), { recursive: true })
  // Inside the project, so `npx txt2sql-edge` finds the project's own command.
  scratch = mkdtempSync(join(root, '.tmp', 'doc-examples-'))
}, 120_000)

afterAll(async () => {
  await server?.stop()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

function run(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ADMIN_TOKEN, TXT2SQL_URL: server.url, TXT2SQL_API_KEY: undefined, NO_COLOR: '1' })) if (v !== undefined) env[k] = v
  const child = spawn('bash', ['-c', `set -eo pipefail\n${command.replaceAll(DOCUMENTED_SERVICE, server.url)}`], { cwd: scratch, env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    }),
  )
}

/** What a command without a documented output must not print: an error body or an error event. */
function failureIn(stdout: string): string | null {
  if (/^event: error$/m.test(stdout)) return 'an error event'
  if (/^\s*\{"error":\{"code"/.test(stdout)) return 'an error body'
  return null
}

const title = (e: Example) => `${e.doc}:${e.line} ${e.commands[0]?.text.split('\n')[0]!.slice(0, 70) ?? '(empty)'}`

describe('the documented examples, run against npm start', () => {
  it.each(examples.map((e) => [title(e), e] as const))('%s', async (_title, example) => {
    for (const f of example.files) writeFileSync(join(scratch, f.name), f.text)
    const runnable = example.commands.filter((c) => !skipOf(example.doc, c))
    if (example.output) expect(runnable.at(-1), `${example.doc}:${example.output.line}: its command is skipped, so its output cannot be compared`).toBe(example.commands.at(-1))
    for (const command of runnable) {
      const where = `${example.doc}:${command.line} ${command.text.split('\n')[0]}`
      const result = await run(command.text)
      expect(result.code, `${where}\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-2000)}`).toBe(0)
      if (command === example.commands.at(-1) && example.output) {
        expect(matchOutput(example.output.text, result.stdout), `${where}: the output documented at line ${example.output.line}`).toEqual([])
      } else {
        expect(failureIn(result.stdout), `${where}\n${result.stdout.slice(-2000)}`).toBeNull()
      }
    }
  })

  it('every block that looks like an example belongs to a command', () => {
    expect(read.flatMap((r) => r.loose).map((b) => `${b.doc}:${b.line} ${b.lang} ${b.firstLine}`)).toEqual([])
  })

  it('every skipped command is still in its document, and few are', () => {
    for (const s of SKIPPED) expect(examples.some((e) => e.doc === s.doc && e.commands.some((c) => c.text.startsWith(s.command))), `${s.doc}: ${s.command}`).toBe(true)
    const all = examples.flatMap((e) => e.commands)
    expect(SKIPPED.length).toBeLessThan(all.length / 2)
  })
})

describe('x-request-id (docs/API.md): on every response of the Worker, on no static file', () => {
  it('the API routes, their errors and the 404 of an unknown path carry one', async () => {
    for (const [path, init] of [['/healthz', {}], ['/v1/ask', { method: 'GET' }], ['/getAnwser', {}], ['/v1/no-such-route', {}], ['/no-such-file.txt', {}]] as const) {
      const res = await fetch(`${server.url}${path}`, init)
      await res.arrayBuffer()
      expect(res.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/)
    }
  })

  it('the page, the OpenAPI document and its reference page are served before the Worker, without one', async () => {
    for (const path of ['/', '/openapi.json', '/api/']) {
      const res = await fetch(`${server.url}${path}`)
      await res.arrayBuffer()
      expect(res.status, path).toBe(200)
      expect(res.headers.get('x-request-id'), path).toBeNull()
    }
  })
})

// The scratch folder is the project's: a command that wrote elsewhere in it would show here.
afterAll(() => {
  expect(existsSync(join(root, 'talk.json'))).toBe(false)
})

describe('how documented output is compared (test/node/doc-examples/match-output.ts)', () => {
  it('a bare … in documented JSON stands for any further elements, and a wrong kind still fails', () => {
    expect(matchOutput('{"rows": [["…", 1], …]}', '{"rows": [["近江", 2], ["西湖", 3], ["武林", 4]]}')).toEqual([])
    expect(matchOutput('{"rows": [["…", 1], …]}', '{"rows": [[true, 2]]}')).not.toEqual([])
    expect(matchOutput('{"ok": true, "…": …}', '{"ok": true, "more": 1}')).toEqual([])
    expect(matchOutput('{"ok": true, "…": …}', '{"ok": false}')).not.toEqual([])
  })
})
