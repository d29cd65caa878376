import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from './dev-server'

// An AI app's view: the official MCP client SDK, over real HTTP, against `npm start` on its
// embedded defaults (the demo database, the fake DashScope) with an API key required.
const KEY = 'mcp-test-key'
let server: DevServer

beforeAll(async () => {
  server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, DASHSCOPE_MODEL: undefined, DATABASE_URL: undefined, NEON_WS_PROXY: undefined, API_KEYS: KEY })
}, 90_000)

afterAll(async () => {
  await server?.stop()
})

type Text = { type: 'text'; text: string }

async function connect(key: string, era: 'legacy' | 'modern'): Promise<Client> {
  const client = new Client({ name: 'mcp-npm-start-test', version: '1.0.0' }, era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {})
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }))
  return client
}

describe('the MCP server of npm start, as an AI app meets it', () => {
  for (const era of ['legacy', 'modern'] as const) {
    it(`(${era === 'legacy' ? '2025 protocol' : '2026-07-28 protocol'}) lists the tools and answers a Chinese question with SQL checked by the database`, async () => {
      const client = await connect(KEY, era)
      expect(client.getServerVersion()?.name).toBe('txt2sql-edge')
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['ask', 'describe_schema', 'run_sql'])
      const progress: string[] = []
      const result = await client.callTool({ name: 'ask', arguments: { question: '沈塘桥地铁站的信息' } }, { onprogress: (p) => progress.push(String(p.message)) })
      expect(result.isError).toBeFalsy()
      const data = result.structuredContent as { sql: { sql: string; ok: boolean; checked: boolean }; model: string }
      expect(data.sql).toMatchObject({ ok: true, checked: true, sql: expect.stringContaining('沈塘桥') })
      expect(data.model).toBe('fake-qwen-plus')
      expect((result.content as Text[])[0]!.text).toContain('Checked by PostgreSQL.')
      expect(progress).toContain('SQL checked by Postgres')
      await client.close()
    })
  }

  it('describe_schema returns the demo database\'s tables with their Chinese comments', async () => {
    const client = await connect(KEY, 'legacy')
    const result = await client.callTool({ name: 'describe_schema', arguments: { tables: ['stations'] } })
    // Marked as the database's content (untrusted data, issue 35), then the DDL with its comments.
    expect((result.content as Text[])[0]!.text).toMatch(/^⟦database content: [^\n]*untrusted data[^\n]*⟧\n-- .*站/)
    await client.close()
  })

  it('run_sql refuses a write statement', async () => {
    const client = await connect(KEY, 'legacy')
    const result = await client.callTool({ name: 'run_sql', arguments: { sql: "DELETE FROM stations WHERE name = '沈塘桥'" } })
    expect(result.isError).toBe(true)
    expect((result.structuredContent as { check: { ok: boolean } }).check.ok).toBe(false)
    // Nothing was deleted: the station is still answered.
    const check = await client.callTool({ name: 'run_sql', arguments: { sql: "SELECT name FROM stations WHERE name = '沈塘桥'" } })
    expect((check.structuredContent as { check: { ok: boolean } }).check.ok).toBe(true)
    await client.close()
  })

  it('refuses a wrong key', async () => {
    await expect(connect('not-the-key', 'legacy')).rejects.toThrow(/401|nauthori/)
    const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' })
    expect(res.status).toBe(401)
  })
})

describe('the README\'s app configurations, as written', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')
  const jsonBlocks = [...readme.matchAll(/```jsonc\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!) as { mcpServers?: Record<string, any> })

  it('Claude Desktop\'s: mcp-remote started as the app starts it bridges stdio to /mcp with the key', async () => {
    const entry = jsonBlocks.map((b) => b.mcpServers?.txt2sql).find((e) => e?.command === 'npx')
    expect(entry.args).toContain('mcp-remote')
    // The config as a user fills it in: their URL, their key.
    const args = (entry.args as string[]).map((a) => a.replace('https://txt2sql.example.com/mcp', `${server.url}/mcp`))
    const env = Object.fromEntries(Object.entries(entry.env as Record<string, string>).map(([k, v]) => [k, v.replace('<your API key>', KEY)]))
    const stderr: string[] = []
    const transport = new StdioClientTransport({ command: entry.command, args, env: { ...process.env, ...env, HOME: process.env.HOME ?? '/tmp' } as Record<string, string>, stderr: 'pipe' })
    transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()))
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' })
    try {
      await client.connect(transport)
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['ask', 'describe_schema', 'run_sql'])
      const result = await client.callTool({ name: 'ask', arguments: { question: '1号线有哪些站' } })
      expect((result.structuredContent as { sql: { checked: boolean } }).sql.checked, stderr.join('')).toBe(true)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('Cursor\'s: the URL and header reach the tools', async () => {
    const entry = jsonBlocks.map((b) => b.mcpServers?.txt2sql).find((e) => e?.url)
    const headers = Object.fromEntries(Object.entries(entry.headers as Record<string, string>).map(([k, v]) => [k, v.replace('<your API key>', KEY)]))
    const client = new Client({ name: 'cursor-stand-in', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(String(entry.url).replace('https://txt2sql.example.com', server.url)), { requestInit: { headers } }))
    expect((await client.listTools()).tools).toHaveLength(3)
    await client.close()
  })
})
