import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ask, putDemoSnapshot } from './support/app'
import { readEvents } from './support/streams'

const SECRET = 'sk-live-0123456789abcdef'

beforeEach(putDemoSnapshot)
afterEach(() => vi.restoreAllMocks())

function captureLog() {
  const lines: string[] = []
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => void lines.push(String(line)))
  return lines
}

describe('the request log', () => {
  it('writes one JSON line per streamed request with timings, tokens and no secret or question text', async () => {
    const lines = captureLog()
    const res = await ask({ question: '沈塘桥地铁站的信息' }, { DASHSCOPE_API_KEY: 'test-key', API_KEYS: SECRET }, { authorization: `Bearer ${SECRET}` })
    await readEvents(res.body!)
    expect(lines).toHaveLength(1)
    const entry = JSON.parse(lines[0]!)
    expect(entry).toMatchObject({
      request_id: res.headers.get('x-request-id'),
      path: '/v1/ask',
      status: 200,
      question_chars: 9,
      model: 'qwen-plus',
      upstream_status: 200,
      finish_reason: 'stop',
      error_code: null,
      sql_ok: true,
    })
    expect(entry.ttft_ms).toBeGreaterThanOrEqual(0)
    expect(entry.input_tokens).toBeGreaterThan(0)
    expect(entry.output_tokens).toBeGreaterThan(0)
    expect(lines[0]).not.toContain(SECRET)
    expect(lines[0]).not.toContain('test-key')
    expect(lines[0]).not.toContain('沈塘桥')
  })

  it('includes the question only with LOG_QUESTIONS', async () => {
    const lines = captureLog()
    await readEvents((await ask({ question: '沈塘桥地铁站的信息' }, { LOG_QUESTIONS: 'true' })).body!)
    expect(JSON.parse(lines[0]!).question).toBe('沈塘桥地铁站的信息')
  })

  it('logs a refused request with its status, error code and upstream status', async () => {
    const lines = captureLog()
    const res = await ask({ question: 'x' }, { DASHSCOPE_API_KEY: SECRET })
    expect(res.status).toBe(502)
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ status: 502, error_code: 'upstream_auth_failed', upstream_status: 401 })
    expect(lines[0]).not.toContain(SECRET)
  })
})
