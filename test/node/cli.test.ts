import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import stringWidth from 'string-width'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { freePort, startDevServer, type DevServer } from './dev-server'

// The terminal client (tools/cli) against `npm start` (wrangler dev) with a real Postgres holding
// the demo metro database and a read-only role, so checks and runs are Postgres's own. (The
// embedded PGlite demo database would do for checks once it gives each connection its own
// session; it cannot run SQL at all, since its only role is a superuser.)

const root = join(import.meta.dirname, '..', '..')
const CLI = join(root, 'tools', 'cli', 'txt2sql.mjs')
const KEY = 'cli-test-key'
const ESC = '\x1b['
const EARLIER_LINE = 'an earlier line of the terminal'

// Escape sequences a terminal obeys, as the issue observed them: OSC 52 writes tmux's paste buffer,
// OSC 0/2 set the pane's title, CSI 2J clears the screen, cursor up + erase line + green forges a line.
const OSC52 = `\x1b]52;c;${Buffer.from('PWNED-CLIP').toString('base64')}\x07`
const HOSTILE_ROWS = [OSC52, '\x1b]0;PWNED-TITLE\x07', '\x1b[2J', '\x1b[1A\x1b[2K\x1b[32m✓ ok\x1b[0m', 'a\u202eb\x9b2J']
const HOSTILE_TABLE = 'hostile_notes\x1b]2;PWNED-TABLE\x07'
const sqlString = (text: string) => `U&'${[...text].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) >= 0x7f ? `\\+${c.codePointAt(0)!.toString(16).padStart(6, '0')}` : c === "'" ? "''" : c)).join('')}'`
const HOSTILE_TABLE_SQL = sqlString(HOSTILE_TABLE).replace(/^U&'(.*)'$/, 'U&"$1"')
/** What the screen shows for a hostile text: each control character as an escape. */
const shown = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))

type Fake = { url: string; setDefaultOptions: (o: string) => void; record: (tag: string) => any; records: (tag: string) => any[]; close: () => Promise<void> }

let pg: LocalPostgres
let fake: Fake
let server: DevServer
let scratch: string

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'txt2sql-cli-'))
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE metro')
  pg.psql(readFileSync(join(root, 'db', 'demo', 'metro.sql'), 'utf8'), 'metro')
  pg.psql(
    `CREATE ROLE txt2sql_ro LOGIN PASSWORD 'ro-pw';
     ALTER ROLE txt2sql_ro SET default_transaction_read_only = on;
     GRANT USAGE ON SCHEMA public TO txt2sql_ro;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO txt2sql_ro;`,
    'metro',
  )
  // What an attacker can store in an ordinary table: a name and values a terminal would obey.
  pg.psql(
    `CREATE TABLE ${HOSTILE_TABLE_SQL} (id int, note text);
     INSERT INTO ${HOSTILE_TABLE_SQL} VALUES ${HOSTILE_ROWS.map((v, i) => `(${i + 1}, ${sqlString(v)})`).join(', ')};
     GRANT SELECT ON ${HOSTILE_TABLE_SQL} TO txt2sql_ro;`,
    'metro',
  )
  fake = await startFakeDashScope({ apiKey: 'cli-upstream-key' })
  server = await startDevServer({
    DASHSCOPE_API_KEY: 'cli-upstream-key',
    DASHSCOPE_BASE_URL: fake.url,
    DASHSCOPE_MODEL: undefined,
    API_KEYS: KEY,
    DATABASE_URL: pg.url('postgres', 'postgres', 'metro'),
    DATABASE_URL_READONLY: pg.url('txt2sql_ro', 'ro-pw', 'metro'),
    NEON_WS_PROXY: undefined,
    SQL_EXECUTE: 'true',
  })
}, 150_000)

afterAll(async () => {
  await server?.stop()
  await fake?.close()
  pg?.stop()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

type Run = { code: number | null; stdout: string; stderr: string; chunks: { at: number; text: string }[]; startedAt: number }

/** Runs the client as a user's shell would, with pipes (so: no terminal, no colours). */
function runCli(args: string[], env: Record<string, string | undefined> = {}, node = process.execPath): Promise<Run> {
  return runCommand(node, [CLI, ...args], env)
}

/** Never spawnSync while the client runs: the fake DashScope answers from this process. */
function runCommand(file: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, TXT2SQL_URL: undefined, TXT2SQL_API_KEY: undefined, ...env })) if (v !== undefined) clean[k] = v
  const startedAt = Date.now()
  const child = spawn(file, args, { cwd: root, env: clean, stdio: ['ignore', 'pipe', 'pipe'] })
  const run: Run = { code: null, stdout: '', stderr: '', chunks: [], startedAt }
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (text: string) => {
    run.stdout += text
    run.chunks.push({ at: Date.now(), text })
  })
  child.stderr.on('data', (text: string) => (run.stderr += text))
  return new Promise((resolve) => child.once('close', (code) => resolve({ ...run, code })))
}

const ask = (question: string, ...flags: string[]) => runCli(['ask', '--url', server.url, '--key', KEY, ...flags, question])

describe('txt2sql-edge ask, streaming to a pipe', () => {
  it('prints reasoning, answer, the checked SQL and the usage as they arrive, exit 0', async () => {
    fake.setDefaultOptions('pace=25,think,tag=stream')
    // The service and key from the environment, as the help says.
    const run = await runCli(['ask', '沈塘桥地铁站的信息'], { TXT2SQL_URL: server.url, TXT2SQL_API_KEY: KEY })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const out = run.stdout
    expect(out).toMatch(/^qwen-plus · schema pg-[0-9a-f]{12} · tables: .*stations/)
    expect(out).toContain('thinking…\n用户想了解某个地铁站的信息')
    expect(out).toContain('您的问题是：沈塘桥地铁站的信息')
    expect(out).toMatch(/── SQL ──\nSELECT \*\nFROM stations\nWHERE name LIKE '%沈塘桥%'\n─+\n✓ checked by Postgres · plan ≈ \d+ rows?, cost [\d.]+\n/)
    expect(out).toMatch(/tokens \d+ in \/ \d+ out · first token \d+ ms · total [\d.]+ s\n$/)
    // Not a terminal: no escape sequences at all.
    expect(out).not.toContain(ESC)
    // Paced 25 ms apart upstream: a client that buffered would print in one piece at the end.
    expect(run.chunks.length).toBeGreaterThan(20)
    expect(run.chunks.at(-1)!.at - run.chunks[0]!.at).toBeGreaterThan(500)
    const firstAnswer = run.chunks.findIndex((c) => c.text.includes('您'))
    expect(firstAnswer).toBeGreaterThan(0)
    expect(run.chunks[firstAnswer]!.at).toBeLessThan(run.chunks.at(-1)!.at - 300)
  })

  it('--json prints every event as one JSON object per line, in order', async () => {
    fake.setDefaultOptions('think,tag=json')
    const run = await ask('1号线有哪些站', '--json')
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    const events = lines.map((l) => JSON.parse(l) as { event: string; data: any })
    expect(events[0]!.event).toBe('meta')
    expect(events.some((e) => e.event === 'reasoning')).toBe(true)
    expect(events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('')).toContain('```sql')
    expect(events.slice(-3).map((e) => e.event)).toEqual(['sql', 'usage', 'done'])
    expect(events.at(-3)!.data).toMatchObject({ ok: true, checked: true, sql: expect.stringContaining('station_lines') })
    for (const e of events) expect(Object.keys(e)).toEqual(['event', 'data'])
  })

  it('--execute prints the rows as a table aligned by display width (Chinese takes two columns)', async () => {
    fake.setDefaultOptions('tag=execute')
    const run = await ask('1号线有哪些站', '--execute')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const table = run.stdout.split('\n').filter((l) => l.includes('│') || /^─+┼/.test(l))
    expect(table[0]).toMatch(/^line_name +│ station_name +│ seq$/)
    const rows = table.slice(2)
    expect(rows.length).toBeGreaterThan(5)
    expect(rows.every((r) => r.startsWith('1号线'))).toBe(true)
    // Every separator stands in the same terminal column on every line.
    const columnsOf = (line: string) => {
      const at: number[] = []
      let width = 0
      for (const ch of line) {
        if (ch === '│' || ch === '┼') at.push(width)
        width += stringWidth(ch)
      }
      return at
    }
    for (const line of table) expect(columnsOf(line)).toEqual(columnsOf(table[0]!))
    // Station names differ in length: the padding is what keeps them aligned.
    expect(new Set(rows.map((r) => r.split('│')[1]!.trim().length)).size).toBeGreaterThan(1)
    // seq is an integer column: right-aligned.
    expect(rows[0]).toMatch(/│ +1$/)
    expect(run.stdout).toMatch(new RegExp(`\\n${rows.length} rows · \\d+ ms\\n`))
  })

  it('--execute prints the answer in words after the rows, as the service streams it', async () => {
    fake.setDefaultOptions('tag=summary')
    const run = await ask('1号线有哪些站', '--execute')
    expect(run.code).toBe(0)
    // The summary request carried the question and the rows; its text follows the row count.
    expect(JSON.stringify(fake.record('summary').body)).toContain('【查询结果】')
    expect(run.stdout).toMatch(/\n\d+ rows · \d+ ms\n\n→ 查询共返回 \d+ 行。第一行是：line_name 为 1号线，station_name 为 \S+，seq 为 1。\ntokens /)
  })

  it('--no-summary: the rows only, and no second DashScope call', async () => {
    fake.setDefaultOptions('tag=nosummary')
    const run = await ask('1号线有哪些站', '--execute', '--no-summary')
    expect(run.code).toBe(0)
    expect(run.stdout).not.toContain('→ ')
    expect(fake.records('nosummary')).toHaveLength(1)
    expect(JSON.stringify(fake.record('nosummary').body)).not.toContain('【查询结果】')
  })

  it('--history sends the earlier turns and appends this one after the answer', async () => {
    const file = join(scratch, 'talk.json')
    fake.setDefaultOptions('tag=history1')
    const first = await ask('沈塘桥地铁站的信息', '--history', file)
    expect(first.code).toBe(0)
    const afterFirst = JSON.parse(readFileSync(file, 'utf8'))
    expect(afterFirst).toEqual([
      { role: 'user', content: '沈塘桥地铁站的信息' },
      { role: 'assistant', content: expect.stringContaining("WHERE name LIKE '%沈塘桥%'") },
    ])
    expect(fake.record('history1').body.input.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user'])

    fake.setDefaultOptions('tag=history2')
    const second = await ask('武林广场站呢', '--history', file)
    expect(second.code).toBe(0)
    const messages = fake.record('history2').body.input.messages as { role: string; content: string }[]
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(messages[1]!.content).toBe('沈塘桥地铁站的信息')
    expect(messages[2]!.content).toBe(afterFirst[1].content)
    const afterSecond = JSON.parse(readFileSync(file, 'utf8'))
    expect(afterSecond.map((t: { role: string }) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(afterSecond[3].content).toContain('武林广场')
  })

  it('shows a repair round and the repaired SQL, exit 0', async () => {
    fake.setDefaultOptions(`tag=repair,answer=${encodeURIComponent('查询：\n```sql\nSELECT nme FROM stations\n```')},repair=${encodeURIComponent('改正：\n```sql\nSELECT name FROM stations LIMIT 3\n```')}`)
    const run = await ask('站名')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('✗ Postgres refused this SQL: column "nme" does not exist (at character 8) — asking the model to repair it:')
    expect(run.stdout).toContain('✓ checked by Postgres after one repair')
  })

  it('exits 1 when the SQL is refused even after the repair, with Postgres\'s message and where', async () => {
    const bad = encodeURIComponent('查询：\n```sql\nSELECT nme FROM stations\n```')
    fake.setDefaultOptions(`tag=refused,answer=${bad},repair=${bad}`)
    const run = await ask('站名')
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('✗ refused by Postgres after one repair: column "nme" does not exist (SQLSTATE 42703, at character 8)')
    expect(run.stdout).toContain('SELECT nme FROM stations\n       ^')
  })

  it('exits 1 when the model says the schema cannot answer, printing its words and the reason', async () => {
    fake.setDefaultOptions(`tag=nosql,answer=${encodeURIComponent('无法回答：数据库里没有站点的天气数据。')}`)
    // Names a table (stations), so linking lets the model decide.
    const run = await ask('沈塘桥地铁站明天天气怎么样')
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('无法回答：数据库里没有站点的天气数据。')
    expect(run.stdout).toContain('cannot answer: ')
  })

  it('exits 1, without asking the model, when no table matches the question', async () => {
    fake.setDefaultOptions('tag=declined')
    const run = await ask('明天天气怎么样')
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/cannot answer: .+/)
    expect(fake.record('declined')?.seen ?? false).toBe(false)
  })

  it('exits 3 with the API\'s error on stderr when the key is wrong', async () => {
    const run = await runCli(['ask', '--url', server.url, '--key', 'wrong-key', '沈塘桥地铁站的信息'])
    expect(run.code).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^txt2sql-edge: 401 unauthorized: .+\n$/)
  })

  it('exits 3 when the service cannot be reached', async () => {
    const port = await freePort()
    const run = await runCli(['ask', '--url', `http://127.0.0.1:${port}`, '沈塘桥地铁站的信息'])
    expect(run.code).toBe(3)
    expect(run.stderr).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`)
  })

  it('exits 3 when the stream breaks off with an error event, which goes to stderr', async () => {
    fake.setDefaultOptions('tag=broken,disconnect_at=10')
    const file = join(scratch, 'broken.json')
    const run = await ask('沈塘桥地铁站的信息', '--history', file)
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(/error upstream_disconnected: .+\(retryable\)/)
    // A broken answer is not a turn of the conversation.
    expect(existsSync(file)).toBe(false)
  })

  it.each([
    [['ask'], /no question/],
    [[], /no command/],
    [['query', 'x'], /unknown command "query"/],
    [['ask', '--frobnicate', 'x'], /Unknown option '--frobnicate'/],
    [['ask', '--url', 'not a url', 'x'], /not a URL: not a url/],
    [['ask', '--url', 'ftp://127.0.0.1', 'x'], /not an http\(s\) URL/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const run = await runCli(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).toContain('txt2sql-edge --help')
  })

  it('exits 2 when the --history file is not a conversation', async () => {
    const file = join(scratch, 'bad-history.json')
    writeFileSync(file, '{"role":"user"}')
    const run = await ask('沈塘桥地铁站的信息', '--history', file)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('must be a JSON array of {"role": "user"|"assistant", "content": "…"}')
  })

  it('--help describes the command, its options and exit codes', async () => {
    const run = await runCli(['--help'])
    expect(run.code).toBe(0)
    for (const text of ['txt2sql-edge ask', '--url', 'TXT2SQL_URL', '--key', 'TXT2SQL_API_KEY', '--execute', '--no-summary', '--json', '--history', 'NO_COLOR', 'Exit codes']) expect(run.stdout).toContain(text)
  })

  it('runs as an npm bin: npx txt2sql-edge and npm run ask', async () => {
    fake.setDefaultOptions('tag=bin')
    const env = { TXT2SQL_URL: server.url, TXT2SQL_API_KEY: KEY }
    const npx = await runCommand('npx', ['--no-install', 'txt2sql-edge', 'ask', '沈塘桥地铁站的信息'], env)
    expect(npx.stderr).not.toContain('txt2sql-edge:')
    expect(npx.code).toBe(0)
    expect(npx.stdout).toContain('✓ checked by Postgres')
    const npm = await runCommand('npm', ['run', '-s', 'ask', '--', '--json', '1号线有哪些站'], env)
    expect(npm.code).toBe(0)
    expect(JSON.parse(npm.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ event: 'done' })
  })

  it('runs on the system Node 20 too (the oldest the package allows)', async () => {
    const systemNode = '/usr/bin/node'
    const version = spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout.trim()
    expect(Number(/^v(\d+)/.exec(version)?.[1])).toBeGreaterThanOrEqual(20)
    fake.setDefaultOptions('tag=node20')
    const run = await runCli(['ask', '--url', server.url, '--key', KEY, '--execute', '沈塘桥地铁站的信息'], {}, systemNode)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/\n1 row · \d+ ms\n/)
  })
})

// A real terminal: colours, and Ctrl-C typed at the keyboard.
describe('txt2sql-edge ask in a terminal (tmux)', () => {
  const socket = `txt2sql-cli-${process.pid}`
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' })
  let windows = 0

  beforeAll(() => {
    const started = tmux('new-session', '-d', '-s', 'cli', '-x', '160', '-y', '50', 'sleep 600')
    expect(started.stderr).toBe('')
    // Keep each window's screen after the client exits, to read it.
    tmux('set-option', '-g', 'remain-on-exit', 'on')
    // Let applications write tmux's paste buffers (OSC 52), so a clipboard write would show in
    // list-buffers; and titles are theirs to set (OSC 0/2) by default.
    tmux('set-option', '-s', 'set-clipboard', 'on')
    tmux('set-option', '-g', 'allow-rename', 'on')
    // A screen clear (CSI 2J) erases, instead of keeping the cleared lines in the history.
    tmux('set-option', '-g', 'scroll-on-clear', 'off')
  })

  afterAll(() => {
    tmux('kill-server')
  })

  /** Starts the client in a new tmux window (a pseudo-terminal), with this environment. */
  function startInTerminal(question: string, env: Record<string, string> = {}, flags: string[] = []) {
    const name = `w${++windows}`
    const exitFile = join(scratch, `${name}.exit`)
    // NO_COLOR or FORCE_COLOR in the tmux server's environment (vitest's) must not leak in.
    const envArgs = Object.entries({ TERM: 'xterm-256color', ...env }).map(([k, v]) => `${k}=${v}`)
    const command = ['env', '-u', 'NO_COLOR', '-u', 'FORCE_COLOR', ...envArgs, process.execPath, CLI, 'ask', '--url', server.url, '--key', KEY, ...flags, question]
    // The exit status goes to a file: tmux's own (#{pane_dead_status}) was seen missing here, the
    // pane's process left unreaped. bash waits for the client through Ctrl-C (the client handles
    // SIGINT and exits 130 itself) and then writes it. A line is printed first, to see that the
    // client leaves what came before it alone.
    const res = tmux('new-window', '-d', '-t', 'cli', '-n', name, '--', 'bash', '-c', 'echo "$1"; shift; "$@"; echo $? > "$0"', exitFile, EARLIER_LINE, ...command)
    expect(res.stderr).toBe('')
    const target = `cli:${name}`
    return {
      title: () => tmux('display-message', '-p', '-t', target, '#{pane_title}').stdout.trim(),
      screen: () => tmux('capture-pane', '-p', '-e', '-J', '-S', '-200', '-t', target).stdout,
      keys: (...keys: string[]) => tmux('send-keys', '-t', target, ...keys),
      exitCode: async (): Promise<number> => {
        for (let i = 0; i < 300; i++) {
          const text = existsSync(exitFile) ? readFileSync(exitFile, 'utf8') : ''
          if (text.endsWith('\n')) return Number(text)
          await new Promise((r) => setTimeout(r, 100))
        }
        throw new Error(`the client did not exit:\n${tmux('capture-pane', '-p', '-t', target).stdout}`)
      },
    }
  }

  /** The SGR parameters of the escape sequences right before the first `text` on the screen. */
  function attributesBefore(screen: string, text: string, from = 0): string[] {
    const at = screen.indexOf(text, from)
    expect(at, `${JSON.stringify(text)} on the screen`).toBeGreaterThanOrEqual(0)
    const run = /(?:\x1b\[[0-9;]*m)*$/.exec(screen.slice(0, at))![0]
    const params = [...run.matchAll(/\x1b\[([0-9;]*)m/g)].flatMap((m) => m[1]!.split(';'))
    // Only what is still in force: a reset clears what came before it.
    return params.slice(params.lastIndexOf('0') + 1).filter((p) => p !== '39' && p !== '49')
  }

  async function waitFor(read: () => string, test: (s: string) => boolean, what: string): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const s = read()
      if (test(s)) return s
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`timed out waiting for ${what}:\n${read()}`)
  }

  it('colours a terminal: reasoning dimmed, SQL keywords highlighted, the check in green', async () => {
    fake.setDefaultOptions('think,tag=tty')
    const term = startInTerminal('沈塘桥地铁站的信息')
    expect(await term.exitCode()).toBe(0)
    const screen = term.screen()
    // tmux re-renders the screen with its own sequences: look at the attributes in force where
    // each piece of text begins.
    expect(attributesBefore(screen, '用户想了解某个地铁站的信息')).toContain('2') // reasoning: dim
    expect(attributesBefore(screen, 'qwen-plus · schema')).toContain('2') // meta: dim
    // The SQL block after the answer (the answer's own ```sql text stays plain).
    const block = screen.indexOf(' SQL ')
    expect(attributesBefore(screen, 'FROM', block)).toEqual(expect.arrayContaining(['1', '34'])) // keywords: bold blue
    expect(attributesBefore(screen, "'%沈塘桥%'", block)).toContain('32') // strings: green
    expect(attributesBefore(screen, 'stations', block)).toEqual([]) // names: plain
    expect(attributesBefore(screen, '✓ checked by Postgres')).toContain('32')
    expect(attributesBefore(screen, '您的问题是')).not.toContain('2') // the answer: plain
  })

  it('NO_COLOR turns colours off in a terminal', async () => {
    fake.setDefaultOptions('think,tag=nocolor')
    const term = startInTerminal('沈塘桥地铁站的信息', { NO_COLOR: '1' })
    expect(await term.exitCode()).toBe(0)
    const screen = term.screen()
    expect(screen).toContain('✓ checked by Postgres')
    expect(screen).not.toContain(ESC)
  })

  it('Ctrl-C cancels the answer mid-stream, and the service closes its DashScope request', async () => {
    fake.setDefaultOptions('pace=60,think,tag=cancel')
    const term = startInTerminal('沈塘桥地铁站的信息')
    await waitFor(term.screen, (s) => s.includes('用户想了解'), 'the reasoning to stream')
    term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    const screen = term.screen()
    expect(screen).toContain('cancelled')
    expect(screen).not.toContain('── SQL ──')
    let record = fake.record('cancel')
    for (let i = 0; i < 100 && !record.closed_early; i++) {
      await new Promise((r) => setTimeout(r, 50))
      record = fake.record('cancel')
    }
    expect(record).toMatchObject({ seen: true, closed_early: true, completed: false })
  })

  describe('hostile bytes from the database and the model are shown, never obeyed', () => {
    const QUESTION = 'hostile notes 有哪些'
    const encode = (text: string) => encodeURIComponent(text)
    const alias = 'n\x1b[2J\x1b]2;PWNED-ALIAS\x07'
    const aliasSql = sqlString(alias).replace(/^U&'(.*)'$/, 'U&"$1"')

    /** Runs the client in a fresh pane and checks that the terminal is as it was, but for text. */
    async function runHostile(tag: string, options: string, flags: string[] = []) {
      fake.setDefaultOptions(`tag=${tag},${options}`)
      const term = startInTerminal(QUESTION, {}, flags)
      const code = await term.exitCode()
      const screen = term.screen().replace(/\x1b\[[0-9;]*m/g, '')
      // The earlier line is still the first (a CSI 2J or cursor-up + erase would have taken it),
      // the title is tmux's own, and no paste buffer was written (OSC 52).
      expect(tmux('list-buffers').stdout).toBe('')
      expect(term.title()).not.toMatch(/PWNED/)
      expect(screen.split('\n').find((l) => l.trim() !== '')).toBe(EARLIER_LINE)
      // No forged line: the only ✓ on the screen is inside an escaped row value.
      for (const line of screen.split('\n')) if (line.includes('✓ ok')) expect(line).toContain('\\x1b[32m✓ ok')
      expect(screen).not.toMatch(/PWNED-CLIP/) // it is base64 on the screen, decoded only by an obeying terminal
      return { code, screen, record: fake.record(tag) }
    }

    it('rows, column aliases, table names, the model\'s text, reasoning and summary', async () => {
      const answer = `答案 ${HOSTILE_ROWS[1]}${HOSTILE_ROWS[2]}：\n\`\`\`sql\nSELECT id, note AS ${aliasSql} FROM ${HOSTILE_TABLE_SQL} ORDER BY id\n\`\`\``
      const { code, screen } = await runHostile('hostile-rows', `think,answer=${encode(answer)},reasoning=${encode(`想 ${HOSTILE_ROWS[3]}${HOSTILE_ROWS[1]}`)},summary=${encode(`总结 ${OSC52}${HOSTILE_ROWS[3]}`)}`, ['--execute'])
      expect(code).toBe(0)
      for (const value of HOSTILE_ROWS) expect(screen).toContain(shown(value)) // rows
      expect(screen).toContain(shown(alias)) // the alias, as the header of the table
      expect(screen.split('\n').find((l) => l.startsWith('qwen-plus'))).toContain(shown(HOSTILE_TABLE)) // the table's name, in the meta line
      expect(screen).toContain(`答案 ${shown(HOSTILE_ROWS[1]!)}${shown(HOSTILE_ROWS[2]!)}：`) // the model's text
      expect(screen).toContain(`想 ${shown(HOSTILE_ROWS[3]!)}${shown(HOSTILE_ROWS[1]!)}`) // reasoning
      expect(screen).toContain(`→ 总结 ${shown(OSC52)}${shown(HOSTILE_ROWS[3]!)}`) // summary
      expect(screen).toMatch(/\n5 rows · \d+ ms\n/)
    })

    it('Postgres\'s errors quoting a value: a failed run and a refused check', async () => {
      const failing = `\`\`\`sql\nSELECT note::int FROM ${HOSTILE_TABLE_SQL} WHERE id = 3\n\`\`\``
      const run = await runHostile('hostile-error', `answer=${encode(failing)}`, ['--execute'])
      expect(run.code).toBe(1)
      expect(run.screen).toContain(`✗ the query failed: invalid input syntax for type integer: "${shown(HOSTILE_ROWS[2]!)}"`)

      const refused = `\`\`\`sql\nSELECT ${aliasSql} FROM ${HOSTILE_TABLE_SQL}\n\`\`\``
      const check = await runHostile('hostile-check', `answer=${encode(refused)},repair=${encode(refused)}`)
      expect(check.code).toBe(1)
      expect(check.screen).toContain(`column "${shown(alias)}" does not exist`)
    })

    it('the cannot-answer reason', async () => {
      const { code, screen } = await runHostile('hostile-reason', `answer=${encode(`无法回答：${HOSTILE_ROWS[3]}${OSC52}`)}`)
      expect(code).toBe(1)
      expect(screen).toMatch(/cannot answer: .*\\x1b\[1A\\x1b\[2K/)
    })
  })
})
