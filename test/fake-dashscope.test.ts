import { describe, expect, it } from 'vitest'
import { fakeRecordAfterClose, fakeUrl, TEST_KEY } from './support/app'

const NATIVE = '/api/v1/services/aigc/text-generation/generation'
const OPENAI = '/compatible-mode/v1/chat/completions'
const messages = [{ role: 'user', content: '沈塘桥地铁站的信息' }]

function native(options = '', body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return fetch(fakeUrl(options) + NATIVE, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'x-dashscope-sse': 'enable', ...headers },
    body: JSON.stringify({ model: 'qwen-plus', input: { messages }, parameters: { result_format: 'message', incremental_output: true }, ...body }),
  })
}

function openai(options = '', body: Record<string, unknown> = {}) {
  return fetch(fakeUrl(options) + OPENAI, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen-plus', messages, stream: true, stream_options: { include_usage: true }, ...body }),
  })
}

const dataOf = (raw: string) => raw.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.replace(/^data: ?/, ''))

describe('the fake DashScope, native protocol', () => {
  it('frames events byte for byte: id, event:result, the status comment, data without a space', async () => {
    const res = await native()
    expect(res.headers.get('content-type')).toBe('text/event-stream;charset=UTF-8')
    const raw = await res.text()
    expect(raw.startsWith('id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"output":{"choices":[{"message":{"content":"您","role":"assistant"},"finish_reason":"null"}]},"usage":{')).toBe(true)
    expect(raw.endsWith('\n\n')).toBe(true)
    const chunks = dataOf(raw).map((d) => JSON.parse(d))
    expect(chunks.slice(0, -1).every((c) => c.output.choices[0].finish_reason === 'null')).toBe(true)
    expect(chunks.at(-1).output.choices[0].finish_reason).toBe('stop')
    const outs = chunks.map((c) => c.usage.output_tokens)
    expect(outs).toEqual([...outs].sort((a, b) => a - b)) // cumulative
    expect(new Set(chunks.map((c) => c.request_id)).size).toBe(1)
    expect(chunks.map((c) => c.output.choices[0].message.content).join('')).toMatch(/^您的问题是：沈塘桥地铁站的信息[\s\S]*```sql\n[\s\S]*沈塘桥[\s\S]*```$/)
  })

  it('repeats the whole text so far when incremental_output is false', async () => {
    const raw = await (await native('', { parameters: { result_format: 'message', incremental_output: false } })).text()
    const contents = dataOf(raw).map((d) => JSON.parse(d).output.choices[0].message.content as string)
    expect(contents[2]!.startsWith(contents[1]!)).toBe(true)
  })

  it('streams reasoning_content first for thinking', async () => {
    const chunks = dataOf(await (await native('', { parameters: { incremental_output: true, enable_thinking: true } })).text()).map((d) => JSON.parse(d))
    expect(chunks[0].output.choices[0].message.reasoning_content.length).toBeGreaterThan(0)
    expect(chunks[0].output.choices[0].message.content).toBe('')
    expect(chunks.at(-1).usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0)
  })

  it('ends with the same bytes whether written whole, split every byte, or at random', async () => {
    const whole = await (await native()).text()
    const norm = (s: string) => s.replace(/"request_id":"[^"]+"/g, '"request_id":"x"')
    expect(norm(await (await native('split=1')).text())).toBe(norm(whole))
    expect(norm(await (await native('split=random,batch=3')).text())).toBe(norm(whole))
  })

  it('uses CRLF line endings when told', async () => {
    expect((await (await native('crlf')).text()).startsWith('id:1\r\nevent:result\r\n:HTTP_STATUS/200\r\ndata:{')).toBe(true)
  })

  it.each([
    [401, 'InvalidApiKey'],
    [429, 'Throttling.RateQuota'],
    [500, 'InternalError'],
    [503, 'ServiceUnavailable'],
  ])('refuses with %i %s as JSON before streaming', async (status, code) => {
    const res = await native(`status=${status}`)
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ code, message: expect.any(String), request_id: expect.any(String) })
    if (status === 429) expect(res.headers.get('retry-after')).toBe('2')
  })

  it('checks the key, the model and the body', async () => {
    expect((await native('', {}, { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await native('', {}, { authorization: '' })).status).toBe(401)
    const unknown = await native('', { model: 'qwen-nope' })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ code: 'ModelNotFound' })
    expect((await native('', { input: {} })).status).toBe(400)
  })

  it('sends event:error mid-stream, then closes', async () => {
    const raw = await (await native('error_at=3')).text()
    expect(raw).toMatch(/id:4\nevent:error\n:HTTP_STATUS\/500\ndata:\{"code":"InternalError","message":"[^"]+","request_id":"[^"]+"\}\n\n$/)
  })

  it('cuts the connection inside an event', async () => {
    const res = await native('disconnect_at=3')
    const raw = await res.text().catch(() => 'rejected')
    // Either the client sees the connection fail, or the body ends in the middle of an event.
    expect(raw === 'rejected' || !raw.endsWith('\n\n')).toBe(true)
  })

  it('stalls, and records that the client went away', async () => {
    const tag = `stall-${crypto.randomUUID()}`
    const res = await native(`stall_at=2,tag=${tag}`)
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    const record = await fakeRecordAfterClose(tag)
    expect(record).toMatchObject({ seen: true, closed_early: true, completed: false })
  })
})

describe('the fake DashScope, compatible mode', () => {
  it('streams chunks with a space after data:, a usage chunk and [DONE]', async () => {
    const raw = await (await openai()).text()
    expect(raw.startsWith('data: {"choices":[{"delta":{"content":"","role":"assistant"}')).toBe(true)
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true)
    const chunks = dataOf(raw).slice(0, -1).map((d) => JSON.parse(d))
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop')
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) } })
  })

  it('refuses in the OpenAI error shape', async () => {
    const res = await openai('status=429')
    expect(res.status).toBe(429)
    expect(await res.json()).toMatchObject({ error: { code: 'Throttling.RateQuota', message: expect.any(String) } })
  })

  it('sends reasoning_content first for thinking', async () => {
    const chunks = dataOf(await (await openai('', { enable_thinking: true })).text()).slice(0, -1).map((d) => JSON.parse(d))
    expect(chunks[1].choices[0].delta.reasoning_content.length).toBeGreaterThan(0)
  })
})
