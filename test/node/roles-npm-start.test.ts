import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { sign } from 'hono/jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/streams'
import type { DevServer } from './dev-server'
import { startRolesService, type RolesService } from './roles-service'

// Who may see what, as a user sets it up: `npm start` against a Postgres with roles, grants and a
// tenant row-level security policy (test/fixtures/db/roles.sql), JWT_SECRET and DB_ROLES, and
// people asking from the terminal client with their tokens.
const root = join(import.meta.dirname, '..', '..')
const CLI = join(root, 'tools', 'cli', 'txt2sql.mjs')
const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``

let service: RolesService
let server: DevServer
const token = (claims: Record<string, unknown>) => service.token(claims)

beforeAll(async () => {
  service = await startRolesService({
    订单的客户有哪些: fence('SELECT tenant, customer FROM orders ORDER BY id'),
    员工的工资: fence('SELECT name, salary FROM employees'),
  })
  server = service.server
}, 150_000)

afterAll(async () => {
  await service?.stop()
})

function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', TXT2SQL_URL: server.url, TXT2SQL_API_KEY: undefined, TXT2SQL_TOKEN: undefined, ...env })) if (v !== undefined) clean[k] = v
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, env: clean, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t))
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}

describe('npm start with JWT_SECRET and DB_ROLES: each person sees what their database role may read', () => {
  it('tenant alpha (--token) sees alpha\'s orders, tenant beta (TXT2SQL_TOKEN) beta\'s — one after the other', async () => {
    const alpha = await runCli(['ask', '--execute', '--token', await token({ sub: 'alice', role: 'analyst', tenant: 'alpha' }), '订单的客户有哪些'])
    expect(alpha.stderr).toBe('')
    expect(alpha.code).toBe(0)
    expect(alpha.stdout).toContain('阿尔法商贸')
    expect(alpha.stdout).toContain('2 rows')
    expect(alpha.stdout).not.toContain('贝塔')
    const beta = await runCli(['ask', '--execute', '订单的客户有哪些'], { TXT2SQL_TOKEN: await token({ sub: 'bob', role: 'sales_rep', tenant: 'beta' }) })
    expect(beta.code).toBe(0)
    expect(beta.stdout).toContain('贝塔科技')
    expect(beta.stdout).not.toContain('阿尔法')
  })

  it('a column the role may not read is refused by Postgres (exit 1, no rows); a table it may not see is not even offered', async () => {
    const analyst = await runCli(['ask', '--execute', '--token', await token({ sub: 'alice', role: 'analyst', tenant: 'alpha' }), '员工的工资'])
    expect(analyst.code).toBe(1)
    expect(analyst.stdout).toContain('permission denied for table employees')
    expect(analyst.stdout).not.toContain('18000')
    const res = await fetch(`${server.url}/v1/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token({ sub: 'bob', role: 'sales_rep' })}` },
      body: JSON.stringify({ question: '员工的工资' }),
    })
    const events = await readEvents(res.body!)
    expect(events.map((e) => e.event)).toEqual(['meta', 'unanswerable', 'done'])
    expect(JSON.stringify(events)).not.toContain('employees')
  })

  it('an expired token, a forged one and an unlisted role are refused before anything runs (exit 3, the reason on stderr)', async () => {
    const expired = await runCli(['ask', '--token', await token({ sub: 'alice', role: 'analyst', exp: Math.floor(Date.now() / 1000) - 10 }), '订单的客户有哪些'])
    expect([expired.code, expired.stderr]).toEqual([3, expect.stringContaining('401 unauthorized: Invalid token: it has expired (exp)')])
    const forged = await runCli(['ask', '--token', await sign({ sub: 'alice', role: 'analyst', exp: Math.floor(Date.now() / 1000) + 60 }, 'someone-elses-secret-0123456789abcdef', 'HS256'), '订单的客户有哪些'])
    expect([forged.code, forged.stderr]).toEqual([3, expect.stringContaining('401 unauthorized: Invalid token: its signature does not match')])
    const postgres = await runCli(['ask', '--token', await token({ sub: 'mallory', role: 'postgres' }), '订单的客户有哪些'])
    expect([postgres.code, postgres.stderr]).toEqual([3, expect.stringContaining('403 role_not_allowed')])
  })

  it('each answer leaves one audit line in the log: the subject and role, never the token or other claims', async () => {
    const jwt = await token({ sub: 'carol', role: 'analyst', tenant: 'alpha', email: 'carol@example.com' })
    expect((await runCli(['ask', '--token', jwt, '订单的客户有哪些'])).code).toBe(0)
    let line: string | undefined
    for (let i = 0; i < 40 && !line; i++) {
      line = server.output().split('\n').find((l) => l.includes('"caller":"sub:carol"'))
      if (!line) await new Promise((r) => setTimeout(r, 100))
    }
    const entry = JSON.parse(line!.slice(line!.indexOf('{')))
    expect(entry).toMatchObject({ path: '/v1/ask', status: 200, role: 'analyst', sql_check: 'passed', relations: ['public.orders'], sql_hash: expect.stringMatching(/^[0-9a-f]{16}$/) })
    expect(server.output()).not.toContain(jwt.split('.')[1]!)
    expect(line).not.toContain('carol@example.com')
  })
})
