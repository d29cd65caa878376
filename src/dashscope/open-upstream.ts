import { AppError } from '../errors'
import { parseRefusal, upstreamRefusalError } from './upstream-error'

export type OpenUpstreamOptions = {
  fetch: typeof fetch
  /** Aborting it cancels the upstream request, before or during streaming. */
  controller: AbortController
  /** How long to wait for upstream's response headers; 0 waits forever. */
  headersTimeoutMs: number
}

const MAX_ERROR_BODY_BYTES = 16 * 1024

/**
 * Sends the streaming request and resolves once DashScope has answered with a 2xx and a body.
 * Refusals (non-2xx) are read (bounded) and thrown as AppError, before our own stream begins, so
 * callers get a real HTTP status (429 with retry-after, 502 for a bad key or model).
 */
export async function openUpstream(request: { url: string; init: RequestInit }, opts: OpenUpstreamOptions): Promise<Response> {
  const { controller } = opts
  // 0 disables the timeout (as it does for the idle timeout of the stream).
  const timer = opts.headersTimeoutMs > 0 ? setTimeout(() => controller.abort(new AppError(504, 'upstream_timeout', 'timeout')), opts.headersTimeoutMs) : undefined
  let response: Response
  try {
    response = await opts.fetch(request.url, { ...request.init, signal: controller.signal })
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof AppError) {
      throw new AppError(504, 'upstream_timeout', `DashScope did not answer within ${opts.headersTimeoutMs} ms`, { retryable: true })
    }
    throw new AppError(502, 'upstream_unavailable', 'Could not reach DashScope', { retryable: true, cause: err })
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
  if (!response.ok) {
    const text = await readBounded(response, MAX_ERROR_BODY_BYTES)
    const err = upstreamRefusalError(response.status, parseRefusal(text), response.headers.get('retry-after'))
    err.options.upstreamStatus = response.status
    throw err
  }
  if (!response.body) {
    throw new AppError(502, 'upstream_malformed', 'DashScope answered without a body', { retryable: true })
  }
  return response
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.byteLength
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A refusal body cut short still tells us the status; the status decides.
  } finally {
    reader.cancel().catch(() => {})
  }
  return text
}
