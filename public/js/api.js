// Talking to the service: the API key or token kept in this browser (the playground's), and a
// client per view — the service's origin and where its bearer comes from are the caller's, so the
// page and each <txt2sql-chat> on a host page talk to their own service as their own user. /v1/ask's
// event stream is parsed by eventsource-parser (bundled into /vendor by scripts/build-assets.mjs).
import { EventSourceParserStream } from '../vendor/eventsource-parser.js'

const KEY_STORAGE = 'txt2sql-edge.api-key'
// A JWT from the caller's identity provider (docs/API.md, Authentication): sent instead of the key.
const TOKEN_STORAGE = 'txt2sql-edge.token'

// Where they are kept (docs/SECURITY.md, "The key and the token in the browser"): this tab's
// sessionStorage by default, gone when the tab closes; localStorage only when the person asks the
// page to remember them on this device — then any script that ever runs in this origin can read
// them until they are cleared. A value remembered earlier is still found there.
function storages() {
  try {
    return { session: sessionStorage, local: localStorage }
  } catch {
    return null // storage disabled: the page still works on an open service
  }
}

function readStored(name) {
  const s = storages()
  return s ? (s.session.getItem(name) ?? s.local.getItem(name) ?? '') : ''
}

function saveStored(name, value, remember) {
  const s = storages()
  if (!s) return
  try {
    const [keep, drop] = remember ? [s.local, s.session] : [s.session, s.local]
    drop.removeItem(name)
    if (value) keep.setItem(name, value)
    else keep.removeItem(name)
  } catch {
    // storage full or disabled: nothing to keep
  }
}

export const readApiKey = () => readStored(KEY_STORAGE)
export const saveApiKey = (key, remember = false) => saveStored(KEY_STORAGE, key, remember)
export const readToken = () => readStored(TOKEN_STORAGE)
export const saveToken = (token, remember = false) => saveStored(TOKEN_STORAGE, token, remember)
/** Whether the key or token is remembered on this device (localStorage), for the dialog's checkbox. */
export const isRemembered = () => {
  const s = storages()
  return Boolean(s && (s.local.getItem(KEY_STORAGE) || s.local.getItem(TOKEN_STORAGE)))
}

/** What goes out as the bearer: the token when there is one, else the key. */
export const readBearer = () => readToken() || readApiKey()

/** An error from the API (its `code` and message) or from the way to it (client-side codes). */
export class ApiError extends Error {
  constructor(code, message, { status = 0, retryAfter = null, requestId = null } = {}) {
    super(message)
    this.code = code
    this.status = status
    this.retryAfter = retryAfter
    this.requestId = requestId
  }
}

/** Turns a refused response (JSON `{error:{code,message}}`, or anything else) into an ApiError. */
async function toApiError(res) {
  const text = await res.text().catch(() => '')
  let code = `http_${res.status}`
  let message = text.trim().slice(0, 500) || res.statusText || `HTTP ${res.status}`
  try {
    const body = JSON.parse(text)
    if (body?.error?.code) {
      code = String(body.error.code)
      message = String(body.error.message ?? code)
    }
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(code, message, { status: res.status, retryAfter: res.headers.get('retry-after'), requestId: res.headers.get('x-request-id') })
}

/**
 * A client of one service. `service`: its origin ('' for the page's own); `bearer()`: what goes out
 * as the bearer ('' for none), asked before each request; `retryUnauthorized` (or a function
 * saying so at the time): after a 401 ask `bearer()` once more and send again, once (a host's token
 * that expired is refreshed there).
 */
export function createClient({ service = '', bearer = readBearer, retryUnauthorized = false } = {}) {
  const base = service.replace(/\/+$/, '')

  async function headers(json) {
    const h = {}
    if (json) h['content-type'] = 'application/json'
    const value = await bearer()
    if (value) h.authorization = `Bearer ${value}`
    return h
  }

  async function attempt(path, init, json) {
    try {
      return await fetch(base + path, { ...init, headers: await headers(json) })
    } catch (err) {
      if (err?.name === 'AbortError') throw err
      throw new ApiError('network_error', String(err?.message ?? err))
    }
  }

  async function send(path, init = {}, json = false) {
    let res = await attempt(path, init, json)
    if (res.status === 401 && (typeof retryUnauthorized === 'function' ? retryUnauthorized() : retryUnauthorized)) {
      await res.body?.cancel()
      res = await attempt(path, init, json)
    }
    if (!res.ok) throw await toApiError(res)
    return res
  }

  return {
    service: base,
    async getHealth() {
      const res = await send('/healthz')
      return res.json()
    },

    /** GET /v1/examples/questions: a few approved example questions the caller's role may ask. */
    async getExampleQuestions(limit = 6) {
      const res = await send(`/v1/examples/questions?limit=${limit}`)
      return (await res.json()).questions
    },

    /** POST /v1/feedback → `{status, body}` (201 stored as an example, 202 noted). */
    async sendFeedback(body) {
      const res = await send('/v1/feedback', { method: 'POST', body: JSON.stringify(body) }, true)
      return { status: res.status, body: await res.json() }
    },

    /**
     * POST /v1/ask and calls `onEvent(name, data)` for each event as it arrives. Resolves when the
     * stream ends; rejects with ApiError before the stream (HTTP refusals, network), or with the
     * AbortError when `signal` aborts — which closes the connection, and the service then cancels
     * its DashScope request.
     */
    async askStream(body, { signal, onEvent }) {
      const res = await send('/v1/ask', { method: 'POST', body: JSON.stringify(body), signal }, true)
      return readEvents(res, signal, onEvent)
    },

    /**
     * Why a request to the service failed at the network level, as far as a browser can tell: a
     * no-cors request (it needs no permission from the service) that arrives means the service is
     * up and refused this page's origin ('cors'); one that fails too means it is unreachable ('network').
     */
    async diagnoseNetwork() {
      try {
        await fetch(`${base}/healthz`, { mode: 'no-cors', cache: 'no-store' })
        return 'cors'
      } catch {
        return 'network'
      }
    },
  }
}

async function readEvents(res, signal, onEvent) {
  if (!res.body || !/text\/event-stream/.test(res.headers.get('content-type') ?? '')) {
    throw new ApiError('bad_response', `Expected an event stream, got ${res.headers.get('content-type') ?? 'no content type'}`, { status: res.status })
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader()
  // A stream that breaks is still one request of the service's log: its id goes with the error.
  const requestId = res.headers.get('x-request-id')
  let sawDone = false
  try {
    for (;;) {
      let step
      try {
        step = await reader.read()
      } catch (err) {
        if (err?.name === 'AbortError' || signal?.aborted) throw err
        throw new ApiError('stream_interrupted', String(err?.message ?? err), { status: res.status, requestId })
      }
      if (step.done) break
      const { event, data } = step.value
      let parsed
      try {
        parsed = JSON.parse(data)
      } catch {
        throw new ApiError('bad_response', `An event "${event}" whose data is not JSON`, { status: res.status, requestId })
      }
      if (event === 'done') sawDone = true
      onEvent(event ?? 'message', parsed)
    }
  } finally {
    reader.releaseLock()
  }
  if (!sawDone) throw new ApiError('stream_interrupted', 'The stream ended without its done event', { status: res.status, requestId })
}
