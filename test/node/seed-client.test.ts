import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startDevServer, type DevServer } from './dev-server'

// The old Flask service's client, exactly as the seed article gives it, but for the URL — and the
// question: the article's own (沈塘桥地铁站的信息) is one of the demo's approved examples
// (db/demo/examples.sql), answered verified with no model call; the model's streaming is tested
// with a question no example answers.
const ARTICLE_QUESTION = '沈塘桥地铁站的信息'
const MODEL_QUESTION = '沈塘桥站在哪个区？'
const SEED_CLIENT = (url: string, question: string) => `
import requests

url = '${url}'
payload = {"question": "${question}"}
response = requests.post(url, json=payload, stream=True)
if response.status_code == 200:
    try:
        for chunk in response.iter_content(chunk_size=1024):
            if chunk:
                print(chunk.decode('utf-8'), end="")
    except Exception as e:
        print(f"流处理过程中出现错误: {e}")
`

let fake: { url: string; close: () => Promise<void>; setDefaultOptions: (options: string) => void }
let server: DevServer

beforeAll(async () => {
  fake = await startFakeDashScope({ apiKey: 'seed-key' })
  fake.setDefaultOptions('pace=30')
  server = await startDevServer({ DASHSCOPE_API_KEY: 'seed-key', DASHSCOPE_BASE_URL: fake.url, API_KEYS: undefined })
}, 90_000)

/** Runs the seed client once: what it printed, its stderr and exit code. */
async function runSeedClient(question = MODEL_QUESTION): Promise<{ printed: string; arrivals: { at: number; text: string }[]; stderr: string; code: unknown }> {
  const child = spawn(process.env.SEED_PYTHON ?? 'python3', ['-u', '-c', SEED_CLIENT(`${server.url}/getAnwser`, question)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const arrivals: { at: number; text: string }[] = []
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (text: string) => arrivals.push({ at: Date.now(), text }))
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((r) => child.once('exit', r))
  return { printed: arrivals.map((a) => a.text).join(''), arrivals, stderr, code }
}

afterAll(async () => {
  await server?.stop()
  await fake?.close()
})

describe('the seed client against /getAnwser through wrangler dev', () => {
  it('prints the answer progressively, as the old service did', async () => {
    fake.setDefaultOptions('pace=30')
    const { printed, arrivals, stderr, code } = await runSeedClient()
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(printed.startsWith(`您的问题是：${MODEL_QUESTION}`)).toBe(true)
    expect(printed).not.toContain('已验证的查询')
    expect(printed).toMatch(/```sql\n[\s\S]*沈塘桥[\s\S]*```/)
    expect(printed).not.toContain('流处理过程中出现错误')
    expect(printed).not.toMatch(/^event:|^data:/m)
    // Paced 30 ms apart upstream: a buffered reply would print in one or two pieces.
    expect(arrivals.length).toBeGreaterThan(10)
    expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeGreaterThan(300)
  }, 60_000)

  it("prints the article's own question whole, answered verified: the restated question, the ✓ line and the ```sql block", async () => {
    fake.setDefaultOptions('pace=30')
    const { printed, stderr, code } = await runSeedClient(ARTICLE_QUESTION)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(printed).toMatch(new RegExp(`^您的问题是：${ARTICLE_QUESTION}\\n\\n✓ 已验证的查询（示例 #\\d+）\\n\\n\`\`\`sql\\n[^\`]*沈塘桥[^\`]*\\n\`\`\`\\n`))
    expect(printed).not.toContain('流处理过程中出现错误')
    expect(printed).not.toMatch(/^event:|^data:/m)
    // The same whole answer a second time (a sequence, not one call on a fresh state).
    expect((await runSeedClient(ARTICLE_QUESTION)).printed).toBe(printed)
  }, 60_000)

  it('prints 50 whole answers, with no decode error, while DashScope writes in 1-byte, random-size and CRLF pieces', async () => {
    fake.setDefaultOptions('')
    const reference = await runSeedClient()
    expect(reference.printed).toMatch(/```sql\n[\s\S]*沈塘桥[\s\S]*```/)
    const splits = ['split=1', 'split=random', 'split=random,crlf', 'split=1,crlf', 'split=7']
    for (let i = 0; i < 50; i++) {
      const options = `${splits[i % splits.length]},seed=${i + 1}`
      fake.setDefaultOptions(options)
      const run = await runSeedClient()
      expect(run.stderr, options).toBe('')
      expect(run.code, options).toBe(0)
      expect(run.printed, options).not.toContain('流处理过程中出现错误')
      expect(run.printed, options).toBe(reference.printed)
    }
  }, 300_000)

  it('answers a missing question with the old line of text', async () => {
    const res = await fetch(`${server.url}/getAnwser`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('无法理解,请重新输入问题\n')
  })
})
