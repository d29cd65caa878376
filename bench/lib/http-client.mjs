// A bare node:http client: times the first byte and every read, without fetch's own buffering.
import http from 'node:http'

export const agent = new http.Agent({ keepAlive: true, maxSockets: 2000 })

/**
 * POSTs JSON and reads the streamed body. `onChunk(text, at)` sees every read as it arrives; when
 * it returns `'stop'`, the response is closed there (the client leaves) and the call resolves.
 * Resolves with { status, ttfb, firstMatch, end, bytes } — times in ms since the request began.
 * `agent`: another http.Agent (the default one keeps connections alive).
 */
export function post(url, body, { headers = {}, onChunk, match, timeoutMs = 120_000, agent: via = agent } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const payload = Buffer.from(JSON.stringify(body))
    const req = http.request(url, { method: 'POST', agent: via, headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers } }, (res) => {
      let ttfb = null
      let firstMatch = null
      let bytes = 0
      res.setEncoding('utf8')
      res.on('data', (text) => {
        const at = performance.now() - started
        ttfb ??= at
        bytes += Buffer.byteLength(text)
        if (firstMatch === null && match && text.includes(match)) firstMatch = at
        if (onChunk?.(text, at) === 'stop') {
          // Leaving mid-answer: the socket's close then reports 'aborted' (ECONNRESET), expected here.
          req.on('error', () => {})
          res.on('error', () => {})
          res.destroy()
          resolve({ status: res.statusCode, ttfb, firstMatch, end: performance.now() - started, bytes, stopped: true })
        }
      })
      res.on('end', () => resolve({ status: res.statusCode, ttfb, firstMatch, end: performance.now() - started, bytes }))
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

/** The body a client sends to DashScope directly, for the baseline runs. */
export function nativeRequest(question = '沈塘桥地铁站的信息') {
  return {
    model: 'qwen-plus',
    input: { messages: [{ role: 'system', content: 'You write SQL.' }, { role: 'user', content: question }] },
    parameters: { result_format: 'message', incremental_output: true },
  }
}

export const NATIVE_PATH = '/api/v1/services/aigc/text-generation/generation'
export const nativeHeaders = (key) => ({ authorization: `Bearer ${key}`, 'x-dashscope-sse': 'enable' })
