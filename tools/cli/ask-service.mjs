// One question to POST /v1/ask, its Server-Sent Events read with eventsource-parser as they arrive.
import { EventSourceParserStream } from 'eventsource-parser/stream'

/** The request failed before or while the answer streamed: exit code 3, message on stderr. */
export class ServiceError extends Error {
  name = 'ServiceError'
  /** @param {string} message @param {{ status?: number, code?: string }} [details] */
  constructor(message, details = {}) {
    super(message)
    this.status = details.status
    this.code = details.code
  }
}

/**
 * @param {{ url: URL, key?: string, question: string, history?: { role: string, content: string }[], execute?: boolean, summarize?: boolean, signal?: AbortSignal, fetch?: typeof fetch }} request
 * @returns {Promise<AsyncIterable<{ event: string, data: any }>>} resolves once the service accepted the question
 */
export async function askService({ url, key, question, history, execute, summarize, signal, fetch: doFetch = fetch }) {
  const endpoint = new URL('v1/ask', url.href.endsWith('/') ? url : `${url.href}/`)
  const body = { question, ...(history?.length ? { history } : {}), ...(execute ? { execute: true } : {}), ...(execute && summarize ? { summarize: true } : {}) }
  let res
  try {
    res = await doFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
      signal,
    })
  } catch (err) {
    if (signal?.aborted) throw err
    throw new ServiceError(`cannot reach ${endpoint.origin}: ${describeNetworkError(err)}`)
  }
  if (!res.ok) throw await serviceErrorOf(res)
  const type = res.headers.get('content-type') ?? ''
  if (!type.startsWith('text/event-stream') || !res.body) {
    await res.body?.cancel()
    throw new ServiceError(`${endpoint.href} answered ${res.status} with ${type || 'no content type'}, not an event stream: is --url the txt2sql-edge service?`, { status: res.status })
  }
  return readEvents(res.body, signal)
}

async function* readEvents(body, signal) {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
  const reader = events.getReader()
  try {
    for (;;) {
      let chunk
      try {
        chunk = await reader.read()
      } catch (err) {
        if (signal?.aborted) throw err
        throw new ServiceError(`the connection broke while the answer streamed: ${describeNetworkError(err)}`)
      }
      if (chunk.done) return
      const { event, data } = chunk.value
      let parsed
      try {
        parsed = JSON.parse(data)
      } catch {
        throw new ServiceError(`the service sent an event that is not JSON: ${data.slice(0, 200)}`)
      }
      yield { event: event ?? 'message', data: parsed }
    }
  } finally {
    // Leaving early (an error, Ctrl-C, a consumer that stops) closes the connection, and the
    // service then cancels its upstream request.
    await reader.cancel().catch(() => {})
  }
}

/** The API's `{"error":{"code","message"}}`, or whatever the body says when it is not ours. */
async function serviceErrorOf(res) {
  const text = await res.text().catch(() => '')
  try {
    const { error } = JSON.parse(text)
    if (error && typeof error.code === 'string') {
      const retry = res.headers.get('retry-after')
      return new ServiceError(`${res.status} ${error.code}: ${error.message}${retry ? ` (retry after ${retry} s)` : ''}`, { status: res.status, code: error.code })
    }
  } catch {
    // not JSON: fall through
  }
  const excerpt = text.trim().slice(0, 300)
  return new ServiceError(`${res.status} ${res.statusText || 'error'}${excerpt ? `: ${excerpt}` : ''}`, { status: res.status })
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeNetworkError(err) {
  const cause = err?.cause
  if (cause?.code) return [cause.code, cause.address && cause.port ? `${cause.address}:${cause.port}` : cause.hostname].filter(Boolean).join(' ')
  return cause?.message ?? err?.message ?? String(err)
}
