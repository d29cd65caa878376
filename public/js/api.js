// Talking to the service: the API key or token kept in this browser, JSON calls, and /v1/ask's
// event stream parsed by eventsource-parser (bundled into /vendor by scripts/build-assets.mjs).
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

function headers(json = true) {
  const h = {}
  if (json) h['content-type'] = 'application/json'
  const bearer = readBearer()
  if (bearer) h.authorization = `Bearer ${bearer}`
  return h
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

async function send(path, init) {
  let res
  try {
    res = await fetch(path, init)
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw new ApiError('network_error', String(err?.message ?? err))
  }
  if (!res.ok) throw await toApiError(res)
  return res
}

export async function getHealth() {
  const res = await send('/healthz', { headers: headers(false) })
  return res.json()
}

/** POST /v1/feedback → `{status, body}` (201 stored as an example, 202 noted). */
export async function sendFeedback(body) {
  const res = await send('/v1/feedback', { method: 'POST', headers: headers(), body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

/**
 * POST /v1/ask and calls `onEvent(name, data)` for each event as it arrives. Resolves when the
 * stream ends; rejects with ApiError before the stream (HTTP refusals, network), or with the
 * AbortError when `signal` aborts — which closes the connection, and the service then cancels
 * its DashScope request.
 */
export async function askStream(body, { signal, onEvent }) {
  const res = await send('/v1/ask', { method: 'POST', headers: headers(), body: JSON.stringify(body), signal })
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
