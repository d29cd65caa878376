import { beforeEach, describe, expect, inject, it } from 'vitest'
import { ask, call, clearSnapshot, dbEnv, fakeRecord, fakeRecordAfterClose, fakeUrl, putDemoSnapshot, type Overrides } from './support/app'
import { readEvents } from './support/streams'

beforeEach(putDemoSnapshot)

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe(code)
  expect(body.error.message.length).toBeGreaterThan(0)
  return body
}

describe('POST /v1/ask answers as Server-Sent Events', () => {
  it('streams meta, deltas, sql, usage and done with the SSE headers', async () => {
    const res = await ask({ question: '沈塘桥地铁站的信息' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const requestId = res.headers.get('x-request-id')
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    const events = await readEvents(res.body!)
    expect(events[0]).toEqual({ event: 'meta', data: { request_id: requestId, model: 'qwen-plus', schema_version: 'demo-1', tables: expect.arrayContaining(['stations']), examples: [], glossary: [] } })
    expect(events.slice(-3).map((e) => e.event)).toEqual(['sql', 'usage', 'done'])
    const answer = events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('')
    expect(answer).toContain('沈塘桥')
    expect(events.at(-3)!.data).toMatchObject({ ok: true, sql: expect.stringMatching(/^SELECT .*沈塘桥/s) })
    expect(events.at(-2)!.data).toEqual({ input_tokens: expect.any(Number), output_tokens: expect.any(Number), total_tokens: expect.any(Number) })
    expect(events.at(-1)!.data).toEqual({ finish_reason: 'stop', ttft_ms: expect.any(Number), total_ms: expect.any(Number) })
  })

  it('sends the prompt with the schema, the examples and the history to DashScope', async () => {
    const history = [
      { role: 'user', content: '武林广场在哪条线？' },
      { role: 'assistant', content: '在1号线。' },
    ]
    const res = await ask({ question: '  沈塘桥地铁站的信息  ', history }, { DASHSCOPE_BASE_URL: fakeUrl('tag=prompt1') })
    await readEvents(res.body!)
    const { body } = await fakeRecord('prompt1')
    const messages = body.input.messages as { role: string; content: string }[]
    expect(messages[0]!.role).toBe('system')
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(messages.at(-1)!.content).toContain('沈塘桥地铁站的信息')
    expect(messages.at(-1)!.content).not.toMatch(/^\s/)
    expect(JSON.stringify(messages)).toContain('stations')
    expect(body.parameters).toMatchObject({ result_format: 'message', incremental_output: true })
  })

  it('speaks the compatible mode when DASHSCOPE_PROTOCOL is openai', async () => {
    const res = await ask({ question: '1号线有哪些站' }, { DASHSCOPE_PROTOCOL: 'openai' })
    const events = await readEvents(res.body!)
    expect(events.at(-3)!.event).toBe('sql')
    expect(events.at(-2)!.event).toBe('usage')
    expect(events.at(-1)!.data.finish_reason).toBe('stop')
  })

  it('passes thinking-model reasoning as reasoning events before the answer', async () => {
    const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_BASE_URL: fakeUrl('think') })
    const names = (await readEvents(res.body!)).map((e) => e.event)
    expect(names.indexOf('reasoning')).toBeGreaterThan(0)
    expect(names.lastIndexOf('reasoning')).toBeLessThan(names.indexOf('delta'))
  })
})

describe('POST /v1/ask refuses bad requests with a JSON error and a code', () => {
  it.each([
    ['a body that is not JSON', '{"question": ', 'invalid_json'],
    ['a missing question', {}, 'invalid_request'],
    ['an empty question', { question: '' }, 'invalid_request'],
    ['a blank question', { question: ' \n\t ' }, 'invalid_request'],
    ['a question over 2000 characters', { question: '站'.repeat(2001) }, 'invalid_request'],
    ['a question that is a number', { question: 42 }, 'invalid_request'],
    ['a body that is an array', [{ question: 'x' }], 'invalid_request'],
    ['a body that is null', 'null', 'invalid_request'],
    ['history that is not an array', { question: 'x', history: 'no' }, 'invalid_request'],
    ['history with an unknown role', { question: 'x', history: [{ role: 'system', content: 'x' }] }, 'invalid_request'],
    ['history of 11 turns', { question: 'x', history: Array.from({ length: 11 }, () => ({ role: 'user', content: 'x' })) }, 'invalid_request'],
  ])('400 for %s', async (_name, body, code) => {
    await expectError(await ask(body), 400, code)
  })

  it('accepts a question of exactly 2000 characters after trimming', async () => {
    const res = await ask({ question: ` ${'站'.repeat(2000)} ` })
    expect(res.status).toBe(200)
    await res.body!.cancel()
  })

  it('415 for a body that is not sent as JSON', async () => {
    const res = await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"question":"x"}' })
    await expectError(res, 415, 'unsupported_media_type')
    await expectError(await call('/v1/ask', { method: 'POST', body: '{"question":"x"}' }), 415, 'unsupported_media_type')
  })

  it('413 for a body over 64 KB, announced or streamed without a length', async () => {
    const big = JSON.stringify({ question: 'x', pad: 'y'.repeat(70_000) })
    await expectError(await ask(big), 413, 'payload_too_large')
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big))
        c.close()
      },
    })
    // @ts-expect-error duplex is required by fetch for streamed bodies
    const res = await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' })
    await expectError(res, 413, 'payload_too_large')
  })

  it('405 with an Allow header for another method on a known path, 404 for an unknown path', async () => {
    const res = await call('/v1/ask', { method: 'GET' })
    await expectError(res, 405, 'method_not_allowed')
    expect(res.headers.get('allow')).toBe('POST')
    await expectError(await call('/nope'), 404, 'not_found')
  })
})

describe('API keys', () => {
  const keys = { API_KEYS: 'alpha-key, beta-key' }
  it('are not needed when API_KEYS is unset', async () => {
    const res = await ask({ question: 'x' })
    expect(res.status).toBe(200)
    await res.body!.cancel()
  })
  it.each([
    ['no Authorization header', {}],
    ['a wrong key', { authorization: 'Bearer gamma-key' }],
    ['a malformed header', { authorization: 'Bearer   ' }],
    ['another scheme', { authorization: 'Basic YWxwaGEta2V5' }],
    ['a key with characters a token cannot hold', { authorization: 'Bearer 沈塘桥' }],
  ])('401 for %s when API_KEYS is set, saying what to send', async (_name, headers) => {
    const res = await ask({ question: 'x' }, keys, headers)
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'Missing or invalid API key: send "Authorization: Bearer <key>"' } })
  })
  it('let any configured key through', async () => {
    for (const key of ['alpha-key', 'beta-key']) {
      const res = await ask({ question: 'x' }, keys, { authorization: `Bearer ${key}` })
      expect(res.status).toBe(200)
      await res.body!.cancel()
    }
  })
})

describe('upstream refusals before streaming become HTTP errors', () => {
  it('429 with retry-after when DashScope throttles', async () => {
    const res = await ask({ question: 'x' }, { DASHSCOPE_BASE_URL: fakeUrl('status=429') })
    await expectError(res, 429, 'upstream_throttled')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })
  it('502 when DashScope refuses our key, without echoing it', async () => {
    const res = await ask({ question: 'x' }, { DASHSCOPE_API_KEY: 'sk-wrong-secret-value' })
    const body = await expectError(res, 502, 'upstream_auth_failed')
    expect(JSON.stringify(body)).not.toContain('sk-wrong-secret-value')
  })
  it('502 for an unknown model', async () => {
    await expectError(await ask({ question: 'x' }, { DASHSCOPE_MODEL: 'qwen-does-not-exist' }), 502, 'upstream_model_not_found')
  })
  it('502, retryable, when DashScope fails with a 500', async () => {
    await expectError(await ask({ question: 'x' }, { DASHSCOPE_BASE_URL: fakeUrl('status=500') }), 502, 'upstream_unavailable')
  })
  it('502, retryable, when DashScope cannot be reached', async () => {
    await expectError(await ask({ question: 'x' }, { DASHSCOPE_BASE_URL: 'http://127.0.0.1:9' }), 502, 'upstream_unavailable')
  })
  it('the same refusals in compatible mode', async () => {
    await expectError(await ask({ question: 'x' }, { DASHSCOPE_PROTOCOL: 'openai', DASHSCOPE_BASE_URL: fakeUrl('status=429') }), 429, 'upstream_throttled')
    await expectError(await ask({ question: 'x' }, { DASHSCOPE_PROTOCOL: 'openai', DASHSCOPE_API_KEY: 'nope' }), 502, 'upstream_auth_failed')
  })
})

describe('503 when the service cannot answer yet', () => {
  it('without a cached schema snapshot', async () => {
    await clearSnapshot()
    await expectError(await ask({ question: 'x' }), 503, 'schema_unavailable')
  })
  it('without a DashScope key', async () => {
    await expectError(await ask({ question: 'x' }, { DASHSCOPE_API_KEY: undefined }), 503, 'upstream_not_configured')
  })
})

describe('upstream faults after the stream began become an error event and done', () => {
  it.each([
    ['event:error mid-stream', 'error_at=5', 'upstream_error'],
    ['a disconnect mid-event', 'disconnect_at=5', 'upstream_disconnected'],
    ['malformed JSON', 'malformed_at=5', 'upstream_malformed'],
  ])('%s', async (_name, options, code) => {
    const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_BASE_URL: fakeUrl(options) })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(0)
    expect(events.at(-2)).toMatchObject({ event: 'error', data: { code } })
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'error' } })
  })

  it('a stall past the idle timeout', async () => {
    const res = await ask({ question: 'x' }, { DASHSCOPE_BASE_URL: fakeUrl('stall_at=3'), UPSTREAM_IDLE_TIMEOUT_MS: '300' })
    const events = await readEvents(res.body!)
    expect(events.at(-2)).toMatchObject({ event: 'error', data: { code: 'upstream_timeout', retryable: true } })
    expect(events.at(-1)!.event).toBe('done')
  })

  it('504 when DashScope accepts the connection but sends no headers within the idle timeout', async () => {
    const res = await ask({ question: 'x' }, { DASHSCOPE_BASE_URL: inject('silentUpstreamUrl'), UPSTREAM_IDLE_TIMEOUT_MS: '300' })
    await expectError(res, 504, 'upstream_timeout')
  })

  it('a stall before the first event', async () => {
    const res = await ask({ question: 'x' }, { DASHSCOPE_BASE_URL: fakeUrl('stall_at=0'), UPSTREAM_IDLE_TIMEOUT_MS: '300' })
    const events = await readEvents(res.body!)
    expect(events.at(-2)!.data.code).toBe('upstream_timeout')
  })
})

describe('a client that goes away', () => {
  it('aborts the upstream request', async () => {
    const tag = `abort-${crypto.randomUUID()}`
    const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_BASE_URL: fakeUrl(`tag=${tag},pace=50`) })
    const reader = res.body!.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    const record = await fakeRecordAfterClose(tag)
    expect(record.seen).toBe(true)
    expect(record.closed_early).toBe(true)
    expect(record.completed).toBe(false)
  })
})

describe('events reach the client one by one, as upstream sends them', () => {
  it('arrive spread over time, not at the end', async () => {
    const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_BASE_URL: fakeUrl('pace=40') })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    const arrivals: number[] = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (value.includes('event: delta')) arrivals.push(Date.now())
    }
    // With 40 ms between upstream events, a buffered answer would arrive in one or two reads.
    expect(arrivals.length).toBeGreaterThan(10)
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(40 * (arrivals.length / 2))
  })
})

describe('GET /healthz', () => {
  it('reports the schema version and model', async () => {
    const res = await call('/healthz')
    expect(await res.json()).toEqual({
      ok: true,
      schema_version: 'demo-1',
      model: 'qwen-plus',
      execute: false,
      page_title: null,
      execute_reason: { code: 'execute_not_allowed', message: 'Running the SQL is not enabled on this service (SQL_EXECUTE)' },
    })
  })
  it('gives the playground the title PAGE_TITLE sets, the operator\'s words for their data', async () => {
    expect(((await (await call('/healthz', {}, { PAGE_TITLE: '  销售数据问答 ' })).json()) as { page_title: unknown }).page_title).toBe('销售数据问答')
    expect(((await (await call('/healthz', {}, { PAGE_TITLE: ' ' })).json()) as { page_title: unknown }).page_title).toBe(null)
  })
  it('answers 503 naming the missing DashScope key', async () => {
    const res = await call('/healthz', {}, { DASHSCOPE_API_KEY: undefined })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ ok: false, schema_version: 'demo-1', reasons: [{ code: 'upstream_not_configured' }] })
  })
  it('answers 503 with the reason and a retry-after while no snapshot is cached, as /v1/ask does', async () => {
    await clearSnapshot()
    const res = await call('/healthz')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(await res.json()).toEqual({
      ok: false,
      schema_version: null,
      model: 'qwen-plus',
      execute: false,
      page_title: null,
      execute_reason: { code: 'execute_not_allowed', message: expect.any(String) },
      reasons: [{ code: 'schema_unavailable', message: expect.stringContaining('No schema snapshot is cached yet') }],
    })
    const ask = await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) })
    expect(ask.status).toBe(503)
    expect(ask.headers.get('retry-after')).toBe('5')
    expect(((await ask.json()) as { error: { code: string } }).error.code).toBe('schema_unavailable')
  })
  it('says execute is allowed only when SQL_EXECUTE is on and the SQL is checked against a database, and otherwise why', async () => {
    type Health = { execute: boolean; execute_reason?: { code: string } }
    const execute = async (overrides: Overrides) => {
      const health = (await (await call('/healthz', {}, overrides)).json()) as Health
      return [health.execute, health.execute_reason?.code]
    }
    expect(await execute({ SQL_EXECUTE: 'true', ...dbEnv('guardReadonly') })).toEqual([true, undefined])
    expect(await execute({ SQL_EXECUTE: 'false', ...dbEnv('guardReadonly') })).toEqual([false, 'execute_not_allowed'])
    expect(await execute({ SQL_EXECUTE: 'true', DATABASE_URL: undefined })).toEqual([false, 'database_not_configured'])
    expect(await execute({ SQL_EXECUTE: 'true', SQL_CHECK: 'false', ...dbEnv('guardReadonly') })).toEqual([false, 'database_not_configured'])
  })
})
