import { describe, expect, it } from 'vitest'
import { parseRefusal, upstreamRefusalError } from '../src/dashscope/upstream-error'

describe('DashScope refusals before streaming', () => {
  it.each([
    [401, '{"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"r"}', 502, 'upstream_auth_failed', false],
    [404, '{"code":"ModelNotFound","message":"Model not exist."}', 502, 'upstream_model_not_found', false],
    [400, '{"code":"InvalidParameter","message":"bad"}', 502, 'upstream_bad_request', false],
    [400, '{"code":"DataInspectionFailed","message":"Input data may contain inappropriate content."}', 400, 'upstream_content_rejected', false],
    [429, '{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded"}', 429, 'upstream_throttled', true],
    [500, '{"code":"InternalError","message":"oops"}', 502, 'upstream_unavailable', true],
    [503, 'Service Unavailable', 502, 'upstream_unavailable', true],
    [401, '{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}', 502, 'upstream_auth_failed', false],
    [429, '{"error":{"message":"limit","type":"limit_requests","code":"limit_requests"}}', 429, 'upstream_throttled', true],
  ])('%i %s → %i %s', (status, body, ourStatus, code, retryable) => {
    const err = upstreamRefusalError(status, parseRefusal(body), null)
    expect(err.status).toBe(ourStatus)
    expect(err.code).toBe(code)
    expect(err.retryable).toBe(retryable)
  })

  it('keeps upstream code and message in the message', () => {
    const err = upstreamRefusalError(400, parseRefusal('{"code":"InvalidParameter","message":"Range of input length should be [1, 30000]"}'), null)
    expect(err.message).toContain('InvalidParameter: Range of input length')
  })

  it('reads retry-after as seconds or a date, defaulting to 1', () => {
    expect(upstreamRefusalError(429, parseRefusal('{}'), '7').options.retryAfterSeconds).toBe(7)
    expect(upstreamRefusalError(429, parseRefusal('{}'), null).options.retryAfterSeconds).toBe(1)
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString()
    expect(upstreamRefusalError(429, parseRefusal('{}'), inTenSeconds).options.retryAfterSeconds).toBeGreaterThanOrEqual(8)
  })

  it('survives a body that is not JSON or of another shape', () => {
    expect(parseRefusal('<html>')).toEqual({ code: undefined, message: undefined })
    expect(parseRefusal('[1,2]')).toEqual({ code: undefined, message: undefined })
    expect(parseRefusal('{"error":{"code":42,"message":"m"}}')).toEqual({ code: '42', message: 'm' })
  })
})
