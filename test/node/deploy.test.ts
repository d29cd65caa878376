import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { deployWorker, listHyperdrives } from '../../scripts/deploy-worker.mjs'

// `npm run deploy`'s decisions, with wrangler and fetch stood in for (a real deploy needs a
// Cloudflare account; `--dry-run` runs for real in deploy-artifact.test.ts). The stand-in answers
// as wrangler 4.164 does: `secret list` JSON, `hyperdrive list` a cli-table3 table, `deploy` the
// ND-JSON entry it writes to WRANGLER_OUTPUT_FILE_PATH.
const root = join(import.meta.dirname, '..', '..')
const DERIVED = join(root, '.wrangler-deploy.hyperdrive.jsonc')
const URL_ = 'https://txt2sql-edge.example.workers.dev'
const ID = '0123456789abcdef0123456789abcdef'
const RO_ID = 'fedcba9876543210fedcba9876543210'

type Call = { args: string[]; env?: Record<string, string> }
type Answer = { code?: number; stdout?: string; stderr?: string }

function table(rows: { id: string; name: string }[]): string {
  // cli-table3's default style, as `wrangler hyperdrive list` prints it when piped.
  const line = (cells: string[]) => `│ ${cells.map((c, i) => c.padEnd([32, 21, 4][i]!)).join(' │ ')} │`
  return ['📋 Listing Hyperdrive configs', '┌──────────────────────────────────┬───────────────────────┬──────┐', line(['id', 'name', 'user']), '├──────────────────────────────────┼───────────────────────┼──────┤', ...rows.map((r) => line([r.id, r.name, 'app'])), '└──────────────────────────────────┴───────────────────────┴──────┘', ''].join('\n')
}

function fakeWrangler(answers: { secrets?: string[] | 'no worker'; hyperdrives?: { id: string; name: string }[]; deploy?: Answer; create?: Answer } = {}) {
  const calls: Call[] = []
  const hyperdrives = [...(answers.hyperdrives ?? [])]
  const wrangler = async (args: string[], options: { env?: Record<string, string> } = {}) => {
    calls.push({ args, ...(options.env ? { env: options.env } : {}) })
    const [cmd, sub] = args
    if (cmd === 'secret' && sub === 'list') {
      if (answers.secrets === 'no worker') return { code: 1, stdout: '', stderr: '✘ [ERROR] Worker "txt2sql-edge" not found.\n\nIf this is a new Worker, run `wrangler deploy` first to create it.' }
      return { code: 0, stdout: JSON.stringify((answers.secrets ?? []).map((name) => ({ name, type: 'secret_text' }))), stderr: '' }
    }
    if (cmd === 'hyperdrive' && sub === 'list') return { code: 0, stdout: table(hyperdrives), stderr: '' }
    if (cmd === 'hyperdrive' && sub === 'create') {
      if (answers.create?.code) return { code: answers.create.code, stdout: '', stderr: answers.create.stderr ?? '' }
      hyperdrives.push({ id: args[2] === 'txt2sql-edge' ? ID : RO_ID, name: args[2]! })
      return { code: 0, stdout: '✅ Created new Hyperdrive PostgreSQL config', stderr: '' }
    }
    if (cmd === 'deploy') {
      if (answers.deploy?.code) return { code: answers.deploy.code, stdout: '', stderr: '' }
      writeFileSync(options.env!.WRANGLER_OUTPUT_FILE_PATH!, JSON.stringify({ type: 'wrangler-session', version: 1 }) + '\n' + JSON.stringify({ type: 'deploy', version: 1, worker_name: 'txt2sql-edge', targets: [URL_, 'schedule: 17 * * * *'] }) + '\n')
      return { code: 0, stdout: '', stderr: '' }
    }
    throw new Error(`unexpected wrangler ${args.join(' ')}`)
  }
  return { wrangler, calls }
}

function fakeFetch(answers: { status: number; body: unknown }[]) {
  const requests: { url: string; method: string; authorization: string | null }[] = []
  const fetch = async (url: string, init: RequestInit) => {
    requests.push({ url, method: init.method ?? 'GET', authorization: new Headers(init.headers).get('authorization') })
    const next = answers.length > 1 ? answers.shift()! : answers[0]!
    return new Response(JSON.stringify(next.body), { status: next.status, headers: { 'content-type': 'application/json' } })
  }
  return { fetch, requests }
}

const REFRESHED = { status: 200, body: { version: 'pg-abc', changed: true, tables: 6, views: 1, columns: 40 } }
const ALL_SECRETS = ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN', 'DATABASE_URL', 'DATABASE_URL_READONLY', 'API_KEYS']

async function run(argv: string[], env: Record<string, string>, wrangler: ReturnType<typeof fakeWrangler>, fetch = fakeFetch([REFRESHED])) {
  const lines: string[] = []
  const code = await deployWorker({ root, argv, env, wrangler: wrangler.wrangler, fetch: fetch.fetch, log: (l: string) => lines.push(l), sleep: async () => {}, refreshWaitMs: 50 })
  return { code, out: lines.join('\n'), requests: fetch.requests }
}

afterEach(() => rmSync(DERIVED, { force: true }))

describe('npm run deploy checks what the first request needs before deploying anything', () => {
  it('names each missing secret with the command that sets it, and deploys nothing', async () => {
    const w = fakeWrangler({ secrets: ['DASHSCOPE_API_KEY'] })
    const { code, out, requests } = await run([], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(1)
    expect(out).toContain('✘ Not deployed: 2 things are missing.')
    expect(out).toContain('ADMIN_TOKEN (a secret of the worker): npx wrangler secret put ADMIN_TOKEN')
    expect(out).toContain('DATABASE_URL (a secret of the worker): npx wrangler secret put DATABASE_URL')
    expect(out).not.toContain('secret put DASHSCOPE_API_KEY')
    expect(w.calls.map((c) => c.args.join(' '))).toEqual(['secret list --format json'])
    expect(requests).toEqual([])
  })

  it('takes a worker that was never deployed as one without secrets', async () => {
    const w = fakeWrangler({ secrets: 'no worker' })
    const { code, out } = await run([], {}, w)
    expect(code).toBe(1)
    for (const secret of ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN', 'DATABASE_URL']) expect(out).toContain(`npx wrangler secret put ${secret}`)
    expect(out).toContain('ADMIN_TOKEN in this shell')
    expect(w.calls.some((c) => c.args[0] === 'deploy')).toBe(false)
  })

  it('needs ADMIN_TOKEN in the shell for the first refresh', async () => {
    const w = fakeWrangler({ secrets: ALL_SECRETS })
    const { code, out } = await run([], {}, w)
    expect(code).toBe(1)
    expect(out).toContain('✘ Not deployed: one thing is missing.\n  - ADMIN_TOKEN in this shell, the same value as the secret, for the first schema refresh: ADMIN_TOKEN=… npm run deploy')
    expect(w.calls.some((c) => c.args[0] === 'deploy')).toBe(false)
  })

  it('says so when wrangler cannot list the secrets (not logged in), and deploys nothing', async () => {
    const w = { calls: [] as Call[], wrangler: async (args: string[]) => (w.calls.push({ args }), { code: 1, stdout: '', stderr: '✘ [ERROR] Failed to fetch auth token: 400 Bad Request' }) }
    const { code, out } = await run([], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(1)
    expect(out).toContain('could not list the worker\'s secrets: ✘ [ERROR] Failed to fetch auth token: 400 Bad Request')
    expect(out).toContain('npx wrangler login')
    expect(w.calls).toHaveLength(1)
  })

  it("says wrangler's own reason when it runs without a login in a non-interactive shell, and the next step, not a log path", async () => {
    // wrangler 4.164's output verbatim (colours included) for `secret list` with no login and no token.
    const stderr =
      '\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m \u001b[1mIn a non-interactive environment, it\'s necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work. Please go to https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ for instructions on how to create an api token, and assign its value to CLOUDFLARE_API_TOKEN.\u001b[0m\n\n  \n  To continue without logging in, rerun this command with `--temporary`. Wrangler will use a temporary account and print a claim URL.\n\n\n🪵  Logs were written to "/root/.config/.wrangler/logs/wrangler-2026-12-08_01-33-45_107.log"\n'
    const w = { calls: [] as Call[], wrangler: async (args: string[]) => (w.calls.push({ args }), { code: 1, stdout: '', stderr }) }
    const { code, out } = await run([], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(1)
    expect(out).toContain("could not list the worker's secrets: ✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable")
    expect(out).toContain('export CLOUDFLARE_API_TOKEN=')
    expect(out).not.toContain('Logs were written')
    expect(out).not.toContain('.log')
    expect(out).not.toContain('\u001b[')
    expect(w.calls).toHaveLength(1)
  })

  it('refuses unknown arguments as a usage error', async () => {
    const { code, out } = await run(['--force'], {}, fakeWrangler())
    expect(code).toBe(2)
    expect(out).toContain('unknown argument --force')
  })
})

describe('npm run deploy, the Neon way', () => {
  it('deploys, then fills the schema cache, then prints the URL and a line to try — in that order', async () => {
    const w = fakeWrangler({ secrets: ALL_SECRETS })
    const { code, out, requests } = await run([], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(0)
    expect(w.calls.map((c) => c.args.join(' '))).toEqual(['secret list --format json', 'deploy'])
    expect(w.calls[1]!.env!.WRANGLER_OUTPUT_FILE_PATH).toMatch(/output\.ndjson$/)
    expect(requests).toEqual([{ url: `${URL_}/v1/admin/schema/refresh`, method: 'POST', authorization: 'Bearer adm' }])
    expect(out).toContain('Schema cache filled: 6 tables, 1 views, version pg-abc.')
    expect(out).toContain(`txt2sql-edge is live at ${URL_}`)
    expect(out).toContain(`npx txt2sql-edge ask --url ${URL_} --key "$TXT2SQL_API_KEY" "<你的问题>"`)
    expect(out.indexOf('Schema cache filled')).toBeLessThan(out.indexOf('is live at'))
    expect(out).not.toContain('note:')
  })

  it('recommends API keys and a read-only role when they are not set, without stopping', async () => {
    const w = fakeWrangler({ secrets: ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN', 'DATABASE_URL'] })
    const { code, out } = await run([], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(0)
    expect(out).toContain('note: API_KEYS is not set')
    expect(out).toContain('note: no read-only role (DATABASE_URL_READONLY)')
    expect(out).toContain(`npx txt2sql-edge ask --url ${URL_} "<你的问题>"`)
  })

  it('waits for the new deployment to answer the refresh', async () => {
    const f = fakeFetch([{ status: 404, body: { error: { code: 'not_found', message: 'no route' } } }, { status: 503, body: {} }, REFRESHED])
    const { code, requests } = await run([], { ADMIN_TOKEN: 'adm' }, fakeWrangler({ secrets: ALL_SECRETS }), f)
    expect(code).toBe(0)
    expect(requests).toHaveLength(3)
  })

  it('fails, after deploying, when the first refresh fails, saying why and how to retry', async () => {
    const f = fakeFetch([{ status: 502, body: { error: { code: 'database_auth_failed', message: 'The database refused the credentials', retryable: false } } }])
    const { code, out } = await run([], { ADMIN_TOKEN: 'adm' }, fakeWrangler({ secrets: ALL_SECRETS }), f)
    expect(code).toBe(1)
    expect(out).toContain(`✘ Deployed to ${URL_}, but the first schema refresh failed: 502 database_auth_failed: The database refused the credentials`)
    expect(out).toContain(`curl -X POST ${URL_}/v1/admin/schema/refresh -H "authorization: Bearer $ADMIN_TOKEN"`)
  })

  it('tells a wrong ADMIN_TOKEN in the shell from the worker\'s', async () => {
    const f = fakeFetch([{ status: 401, body: { error: { code: 'unauthorized', message: 'Invalid token' } } }])
    const { code, out } = await run([], { ADMIN_TOKEN: 'not-it' }, fakeWrangler({ secrets: ALL_SECRETS }), f)
    expect(code).toBe(1)
    expect(out).toContain("ADMIN_TOKEN in this shell is not the worker's ADMIN_TOKEN secret")
  })

  it('stops when wrangler deploy fails, refreshing nothing', async () => {
    const { code, out, requests } = await run([], { ADMIN_TOKEN: 'adm' }, fakeWrangler({ secrets: ALL_SECRETS, deploy: { code: 1 } }))
    expect(code).toBe(1)
    expect(out).toContain('wrangler deploy failed')
    expect(requests).toEqual([])
  })
})

describe('npm run deploy, the Hyperdrive way', () => {
  it('binds the configurations named after the worker when they exist', async () => {
    const w = fakeWrangler({ secrets: ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN', 'API_KEYS'], hyperdrives: [{ id: ID, name: 'txt2sql-edge' }, { id: RO_ID, name: 'txt2sql-edge-readonly' }, { id: 'a'.repeat(32), name: 'someone-else' }] })
    const { code, out } = await run(['--hyperdrive'], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(0)
    expect(w.calls.map((c) => c.args.join(' '))).toEqual(['secret list --format json', 'hyperdrive list', `deploy --config ${DERIVED}`])
    const config = JSON.parse(readFileSync(DERIVED, 'utf8').replace(/^\/\/.*$/gm, ''))
    expect(config.hyperdrive).toEqual([{ binding: 'HYPERDRIVE', id: ID }, { binding: 'HYPERDRIVE_READONLY', id: RO_ID }])
    expect(config.alias).toEqual({ '@neondatabase/serverless': './src/db/drivers/not-in-this-build.ts' })
    expect(out).not.toContain('note:')
    expect(out).toContain('is live at')
  })

  it('does not need DATABASE_URL as a secret, but says how to create a missing configuration', async () => {
    const w = fakeWrangler({ secrets: ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN'] })
    const { code, out } = await run(['--hyperdrive'], { ADMIN_TOKEN: 'adm' }, w)
    expect(code).toBe(1)
    expect(out).toContain("the Hyperdrive configuration txt2sql-edge (binding HYPERDRIVE): DATABASE_URL='postgres://…?sslmode=require' npm run deploy -- --hyperdrive creates it, or npx wrangler hyperdrive create txt2sql-edge --connection-string='postgres://…' --caching-disabled")
    expect(out).not.toContain('secret put DATABASE_URL')
    expect(w.calls.some((c) => c.args[0] === 'deploy')).toBe(false)
  })

  it('goes this way by itself for a DATABASE_URL that is neither Neon nor local, creates both configurations, and never prints the connection strings', async () => {
    const w = fakeWrangler({ secrets: ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN', 'API_KEYS'] })
    const env = { ADMIN_TOKEN: 'adm', DATABASE_URL: 'postgres://app:s3cret@pgm-bp1.pg.rds.aliyuncs.com:5432/sales?sslmode=require', DATABASE_URL_READONLY: 'postgres://ro:s3cret2@pgm-bp1.pg.rds.aliyuncs.com:5432/sales?sslmode=require' }
    const { code, out } = await run([], env, w)
    expect(code).toBe(0)
    expect(out).toContain('the Hyperdrive way (node-postgres through a Hyperdrive binding) — DATABASE_URL in this shell is neither Neon nor on this machine')
    expect(w.calls.map((c) => c.args.join(' '))).toEqual([
      'secret list --format json',
      'hyperdrive list',
      `hyperdrive create txt2sql-edge --connection-string=${env.DATABASE_URL} --caching-disabled`,
      'hyperdrive list',
      `hyperdrive create txt2sql-edge-readonly --connection-string=${env.DATABASE_URL_READONLY} --caching-disabled`,
      'hyperdrive list',
      `deploy --config ${DERIVED}`,
    ])
    expect(JSON.parse(readFileSync(DERIVED, 'utf8').replace(/^\/\/.*$/gm, '')).hyperdrive).toEqual([{ binding: 'HYPERDRIVE', id: ID }, { binding: 'HYPERDRIVE_READONLY', id: RO_ID }])
    expect(out).toContain('Creating the Hyperdrive configuration txt2sql-edge for postgres://app@pgm-bp1.pg.rds.aliyuncs.com:5432/sales')
    expect(out).not.toMatch(/s3cret/)
    expect(readFileSync(DERIVED, 'utf8')).not.toMatch(/s3cret/)
  })

  it('reports a failed creation without its connection string', async () => {
    const w = fakeWrangler({ secrets: ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN'], create: { code: 1, stderr: '✘ [ERROR] could not connect to postgres://app:s3cret@db.example.com/sales: timeout' } })
    const { code, out } = await run(['--hyperdrive'], { ADMIN_TOKEN: 'adm', DATABASE_URL: 'postgres://app:s3cret@db.example.com/sales' }, w)
    expect(code).toBe(1)
    expect(out).toContain('wrangler hyperdrive create txt2sql-edge failed: ✘ [ERROR] could not connect to <database url> timeout')
    expect(out).not.toMatch(/s3cret/)
    expect(existsSync(DERIVED)).toBe(false)
  })

  it('refuses a database on this machine, which Hyperdrive cannot reach', async () => {
    const { code, out } = await run(['--hyperdrive'], { ADMIN_TOKEN: 'adm', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/app' }, fakeWrangler())
    expect(code).toBe(1)
    expect(out).toContain('DATABASE_URL points at this machine, which Hyperdrive cannot reach')
  })
})

describe("reading wrangler's list of Hyperdrive configurations", () => {
  it('finds ids and names in the table, whatever other columns it has', async () => {
    const listed = await listHyperdrives(async () => ({ code: 0, stdout: table([{ id: ID, name: 'txt2sql-edge' }, { id: RO_ID, name: 'txt2sql-edge-readonly' }]), stderr: '' }))
    expect(listed).toEqual({ configs: [{ id: ID, name: 'txt2sql-edge' }, { id: RO_ID, name: 'txt2sql-edge-readonly' }] })
    expect(await listHyperdrives(async () => ({ code: 0, stdout: '📋 Listing Hyperdrive configs\n', stderr: '' }))).toEqual({ configs: [] })
  })
})
