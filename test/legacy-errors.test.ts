import { beforeAll, describe, expect, it } from 'vitest'
import { call, putDemoSnapshot } from './support/app'

// docs/API.md: every error of /getAnwser is one line of text, `Error: <message>`, with the status of
// the error table — whatever the error, and however early it happens (a method the path does not
// serve, a setting the service cannot read). The old client prints text; JSON would reach its user
// as a line of braces.
const legacy = (init: RequestInit, overrides: Record<string, string | undefined> = {}) => call('/getAnwser', init, overrides)
const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => ({ method: 'POST', headers, body })

async function expectTextError(res: Response, status: number, message: string | RegExp) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
  expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  const text = await res.text()
  expect(text.endsWith('\n')).toBe(true)
  expect(text.trimEnd().split('\n')).toHaveLength(1)
  expect(text.trimEnd()).toMatch(typeof message === 'string' ? new RegExp(`^Error: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : message)
}

beforeAll(putDemoSnapshot)

describe('/getAnwser answers every error as one line of text', () => {
  it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('%s: 405 with the Allow header', async (method) => {
    const res = await legacy({ method })
    await expectTextError(res, 405, `${method} is not allowed here; use POST`)
    expect(res.headers.get('allow')).toBe('POST')
  })

  it('a setting the service cannot read: 500 server_misconfigured, on any method', async () => {
    await expectTextError(await legacy(post('{"question":"沈塘桥地铁站的信息"}'), { MAX_BODY_BYTES: 'abc' }), 500, /^Error: MAX_BODY_BYTES must be /)
    await expectTextError(await legacy({ method: 'GET' }, { DASHSCOPE_PROTOCOL: 'grpc' }), 500, /^Error: DASHSCOPE_PROTOCOL must be /)
  })

  it('the body: not JSON, another media type, too large, a wrong type', async () => {
    await expectTextError(await legacy(post('{"question":')), 400, 'The body is not valid JSON')
    await expectTextError(await legacy(post('question=x', { 'content-type': 'application/x-www-form-urlencoded' })), 415, /^Error: Send the body as JSON /)
    await expectTextError(await legacy(post(JSON.stringify({ question: 'x'.repeat(200) })), { MAX_BODY_BYTES: '100' }), 413, /^Error: The body is larger than 100 bytes$/)
    await expectTextError(await legacy(post('{"question": 42}')), 400, /^Error: /)
  })

  it('a missing key, and no DashScope key', async () => {
    await expectTextError(await legacy(post('{"question":"沈塘桥地铁站的信息"}'), { API_KEYS: 'k1' }), 401, /^Error: Missing or invalid API key: send "Authorization: Bearer <key>"$/)
    await expectTextError(await legacy(post('{"question":"沈塘桥地铁站的信息"}'), { DASHSCOPE_API_KEY: undefined }), 503, /^Error: No DashScope API key/)
  })

  it('the API routes keep answering JSON for the same errors', async () => {
    for (const res of [await call('/v1/ask', { method: 'GET' }), await call('/v1/ask', post('{"question":"x"}'), { MAX_BODY_BYTES: 'abc' })]) {
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^(method_not_allowed|server_misconfigured)$/)
    }
  })
})

describe('405 comes from the routes themselves', () => {
  it.each([
    ['/v1/admin/examples/7/approve', 'GET', 'POST'],
    ['/v1/admin/examples/7', 'POST', 'GET, HEAD, DELETE, PATCH'],
    ['/v1/admin/glossary', 'POST', 'GET, HEAD, PUT'],
    ['/healthz', 'POST', 'GET, HEAD'],
  ])('%s with %s names what the app serves there: %s', async (path, method, allow) => {
    const res = await call(path, { method, headers: { authorization: 'Bearer admin-token' } }, { ADMIN_TOKEN: 'admin-token' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe(allow)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed')
  })

  it('an unknown path is 404 not_found, with its request id', async () => {
    const res = await call('/v1/nope', { method: 'POST' })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No route for POST /v1/nope' } })
  })
})
