import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'

// The fake's question → answer map (used by eval:live's tests): the mapped text, framed exactly as
// any other answer; the canned answers for everything else; `repair` for the follow-up turn.
const NATIVE = '/api/v1/services/aigc/text-generation/generation'
const OPENAI = '/compatible-mode/v1/chat/completions'
const ANSWER = '您的问题是：站名\n```sql\nSELECT name FROM stations\n```'
let fake: { url: string; close: () => Promise<void> }

beforeAll(async () => {
  fake = await startFakeDashScope({ apiKey: 'k', answers: { ' 列出站名 ': ANSWER, 修复我: { answer: 'first', repair: 'second' } } })
})
afterAll(() => fake?.close())

const data = (raw: string) => raw.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.replace(/^data: ?/, ''))
const native = async (messages: unknown[]) => {
  const res = await fetch(fake.url + NATIVE, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json', 'x-dashscope-sse': 'enable' },
    body: JSON.stringify({ model: 'qwen-plus', input: { messages }, parameters: { result_format: 'message', incremental_output: true } }),
  })
  const raw = await res.text()
  return { raw, text: data(raw).map((d) => JSON.parse(d).output.choices[0].message.content).join('') }
}

describe('the fake DashScope answering from a question → answer map', () => {
  it('streams the mapped answer for a mapped question (trimmed, exact), in the usual native framing', async () => {
    const { raw, text } = await native([{ role: 'system', content: 'schema' }, { role: 'user', content: '列出站名' }])
    expect(text).toBe(ANSWER)
    expect(raw.startsWith('id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"output":{"choices":[{"message":{"content":')).toBe(true)
  })

  it('streams it in compatible mode too', async () => {
    const res = await fetch(fake.url + OPENAI, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: '列出站名' }], stream: true }),
    })
    const chunks = data(await res.text()).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d))
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(ANSWER)
  })

  it('answers the repair turn with the mapped repair, and other questions with the canned answers', async () => {
    expect((await native([{ role: 'user', content: '修复我' }])).text).toBe('first')
    expect((await native([{ role: 'user', content: '修复我' }, { role: 'assistant', content: 'first' }, { role: 'user', content: 'PostgreSQL 报错…' }])).text).toBe('second')
    expect((await native([{ role: 'user', content: '沈塘桥地铁站的信息' }])).text).toMatch(/^您的问题是：沈塘桥地铁站的信息[\s\S]*沈塘桥/)
  })
})
