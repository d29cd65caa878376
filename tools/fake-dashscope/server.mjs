// A faithful fake of DashScope's streaming endpoints (native and compatible mode), for `npm start`
// without a key, the tests and the benchmarks. Options per request: see options.mjs and README.md.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { composeAnswer, estimateTokens, isSummaryRequest, reasoningPieces } from './answers.mjs'
import { parseOptionsPrefix, rng } from './options.mjs'
import { REFUSALS, nativeChunk, nativeErrorBody, nativeEvent, nativeUsage, openAiChunk, openAiErrorBody, openAiEvent, openAiUsageChunk } from './wire.mjs'

const NATIVE_PATH = '/api/v1/services/aigc/text-generation/generation'
const OPENAI_PATH = '/compatible-mode/v1/chat/completions'
const MODELS = new Set(['qwen-plus', 'qwen-max', 'qwen-turbo', 'qwen-long', 'qwen3-max', 'qwen3-coder-plus', 'qwen-max-longcontext', 'qwq-plus', 'qwen3-235b-a22b'])
const MAX_BODY = 8 * 1024 * 1024

/**
 * @param {{ port?: number, host?: string, apiKey?: string, log?: boolean, answers?: Record<string, string | { answer: string, repair?: string }> }} [opts]
 *   apiKey: the one key accepted ('*' accepts any). Models named `fake-…` are accepted too.
 *   answers: question → the exact answer text (or `{answer, repair}`), for requests whose user
 *   messages include that question; `answer=`/`repair=` options still win.
 */
export async function startFakeDashScope({ port = 0, host = '127.0.0.1', apiKey = 'fake-key', log = false, answers = {} } = {}) {
  const answerMap = new Map(Object.entries(answers).map(([q, a]) => [q.trim(), typeof a === 'string' ? { answer: a } : a]))
  /** @type {Map<string, any>} */
  const records = new Map()
  // Options for requests without a `/s/…` prefix; benchmarks change them between phases.
  const defaults = { options: '' }
  const sockets = new Set()
  const server = createServer((req, res) => {
    handle(req, res, { apiKey, records, log, defaults, answerMap }).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'InternalError', message: String(err) }))
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  const actual = /** @type {import('node:net').AddressInfo} */ (server.address()).port
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    /** @param {string} options e.g. 'pace=30' — applies to requests without a `/s/…` prefix */
    setDefaultOptions: (options) => {
      defaults.options = options
    },
    /** The latest request with this tag. @param {string} tag */
    record: (tag) => records.get(tag)?.at(-1),
    /** Every request with this tag, oldest first (a repair round reuses the first one's tag). @param {string} tag */
    records: (tag) => records.get(tag) ?? [],
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve(undefined))
      }),
  }
}

async function handle(req, res, ctx) {
  const url = new URL(req.url ?? '/', 'http://fake')
  if (url.pathname === '/__fake/health') return json(res, 200, { ok: true })
  if (url.pathname.startsWith('/__fake/requests/')) {
    const record = ctx.records.get(decodeURIComponent(url.pathname.slice('/__fake/requests/'.length)))?.at(-1)
    return json(res, 200, record ?? { seen: false, closed_early: false, completed: false, events_sent: 0 })
  }
  const { options, path } = parseOptionsPrefix(url.pathname, ctx.defaults.options)
  const protocol = path === NATIVE_PATH ? 'native' : path === OPENAI_PATH ? 'openai' : null
  const requestId = randomUUID()
  const refuse = (status, code, message) =>
    json(res, status, protocol === 'openai' ? openAiErrorBody(code, message) : nativeErrorBody(code, message, requestId), status === 429 ? { 'retry-after': '2' } : {})
  if (!protocol) return json(res, 404, { code: 'NotFound', message: `No such API: ${path}` })
  if (req.method !== 'POST') return refuse(405, 'MethodNotAllowed', 'Use POST.')

  const raw = await readBody(req)
  const record = { seen: true, closed_early: false, closed_at: null, completed: false, events_sent: 0, headers: redactHeaders(req.headers), body: null, write_times: [] }
  if (options.tag) ctx.records.set(options.tag, [...(ctx.records.get(options.tag) ?? []), record])
  if (ctx.log) console.log(`[fake-dashscope] ${protocol} ${url.pathname}`)

  const auth = req.headers.authorization ?? ''
  if (!auth.startsWith('Bearer ') || (ctx.apiKey !== '*' && auth.slice(7) !== ctx.apiKey)) {
    return protocol === 'openai' ? refuse(401, 'invalid_api_key', 'Incorrect API key provided.') : refuse(401, ...REFUSALS[401])
  }
  let body
  try {
    body = JSON.parse(raw)
  } catch {
    return refuse(400, 'InvalidParameter', 'The request body is not valid JSON.')
  }
  record.body = body
  const messages = protocol === 'native' ? body?.input?.messages : body?.messages
  if (typeof body?.model !== 'string' || !Array.isArray(messages) || messages.length === 0) {
    return refuse(400, 'InvalidParameter', protocol === 'native' ? 'Field required: input.messages' : 'messages is required')
  }
  if (!MODELS.has(body.model) && !body.model.startsWith('fake-')) {
    return protocol === 'openai' ? refuse(404, 'model_not_found', `The model \`${body.model}\` does not exist.`) : refuse(404, ...REFUSALS[404])
  }
  if (options.status && REFUSALS[options.status]) return refuse(options.status, ...REFUSALS[options.status])
  // `repair_status=`: refuse only a follow-up turn (the service's repair round).
  const status = messages.some((m) => m?.role === 'assistant') ? options.repairStatus : 0
  if (status && REFUSALS[status]) return refuse(status, ...REFUSALS[status])

  const question = String(messages.filter((m) => m?.role === 'user').at(-1)?.content ?? '')
  if (options.summaryStatus && REFUSALS[options.summaryStatus] && isSummaryRequest(question)) return refuse(options.summaryStatus, ...REFUSALS[options.summaryStatus])
  const inputTokens = estimateTokens(messages.map((m) => String(m?.content ?? '')).join('\n'))
  const params = protocol === 'native' ? (body.parameters ?? {}) : body
  const think = options.think || params.enable_thinking === true || body.model.startsWith('qwq')
  // `repair=`: the answer to a follow-up turn (a request that carries an assistant message).
  const followUp = messages.some((m) => m?.role === 'assistant')
  const mapped = messages.filter((m) => m?.role === 'user').map((m) => ctx.answerMap.get(String(m?.content ?? '').trim())).findLast(Boolean)
  // The service's summary request (the rows explained) is answered with `summary=` or a summary
  // composed from the rows it carries — never with `answer=`, which is the question's answer.
  const given = isSummaryRequest(question)
    ? options.summary
    : followUp && options.repair !== undefined ? options.repair : options.answer ?? (followUp && mapped?.repair !== undefined ? mapped.repair : mapped?.answer)
  const composed = composeAnswer(question, { tokens: options.tokens, answer: given, piece: options.piece })
  // `reasoning=`: this exact reasoning text (streamed with `think`).
  const answer = options.reasoning === undefined ? composed : { ...composed, reasoning: options.reasoning }
  const model = options.model ?? body.model

  if (protocol === 'native') {
    const streaming = req.headers['x-dashscope-sse'] === 'enable' || /text\/event-stream/.test(req.headers.accept ?? '')
    if (!streaming) return json(res, 200, wholeNativeAnswer(answer, { think, inputTokens, requestId, format: params.result_format }))
  } else if (body.stream !== true) {
    return refuse(400, 'invalid_parameter', 'This fake only streams: set "stream": true.')
  }

  const events = protocol === 'native'
    ? nativeEvents(answer, { think, inputTokens, requestId, incremental: params.incremental_output === true && !options.full, format: params.result_format, length: options.length, nl: options.crlf ? '\r\n' : '\n' })
    : openAiEvents(answer, { think, inputTokens, model, includeUsage: body.stream_options?.include_usage === true, length: options.length, nl: options.crlf ? '\r\n' : '\n' })

  res.writeHead(200, {
    'content-type': 'text/event-stream;charset=UTF-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId,
    'x-dashscope-call-gateway': 'true',
  })
  // Headers go out at once, before the first event, as they do from DashScope.
  res.flushHeaders()
  await streamEvents(res, events, options, record, protocol, requestId)
}

function* nativeEvents(answer, { think, inputTokens, requestId, incremental, format, length, nl }) {
  let id = 0
  let out = 0
  let reasoningTokens = 0
  let soFar = ''
  if (think) {
    let reasoningSoFar = ''
    for (const piece of reasoningPieces(answer.reasoning)) {
      out++
      reasoningTokens++
      reasoningSoFar += incremental ? '' : piece
      yield nativeEvent(++id, nativeChunk({ content: '', reasoning: incremental ? piece : reasoningSoFar, finish: 'null', usage: nativeUsage(inputTokens, out, reasoningTokens), requestId, format }), { nl })
    }
  }
  for (const piece of answer.text()) {
    out++
    if (!incremental) soFar += piece
    const chunk = nativeChunk({ content: incremental ? piece : soFar, reasoning: think ? '' : undefined, finish: 'null', usage: nativeUsage(inputTokens, out, reasoningTokens), requestId, format })
    yield nativeEvent(++id, chunk, { nl })
  }
  const last = nativeChunk({ content: incremental ? '' : soFar, reasoning: think ? '' : undefined, finish: length ? 'length' : 'stop', usage: nativeUsage(inputTokens, out, reasoningTokens), requestId, format })
  yield nativeEvent(++id, last, { nl })
}

function* openAiEvents(answer, { think, inputTokens, model, includeUsage, length, nl }) {
  const base = { id: `chatcmpl-${randomUUID()}`, model, created: Math.floor(Date.now() / 1000) }
  let out = 0
  yield openAiEvent(openAiChunk({ ...base, content: '', reasoning: think ? '' : undefined, first: true }), { nl })
  if (think) {
    for (const piece of reasoningPieces(answer.reasoning)) {
      out++
      yield openAiEvent(openAiChunk({ ...base, content: null, reasoning: piece }), { nl })
    }
  }
  for (const piece of answer.text()) {
    out++
    yield openAiEvent(openAiChunk({ ...base, content: piece }), { nl })
  }
  yield openAiEvent(openAiChunk({ ...base, content: '', finish: length ? 'length' : 'stop' }), { nl })
  if (includeUsage) yield openAiEvent(openAiUsageChunk({ ...base, input: inputTokens, output: out }), { nl })
  yield openAiEvent('[DONE]', { nl })
}

/** Writes events with the requested pacing, splitting and faults; honours backpressure and close. */
async function streamEvents(res, events, options, record, protocol, requestId) {
  const random = rng(options.seed)
  let closed = false
  res.on('close', () => {
    if (!record.completed) {
      closed = true
      record.closed_early = true
      // Wall-clock ms (as write_times): when the client's close reached this server.
      record.closed_at = performance.timeOrigin + performance.now()
    }
  })
  const nl = options.crlf ? '\r\n' : '\n'
  let index = 0
  let batch = ''
  for (const event of events) {
    if (closed) return
    if (index === options.errorAt) {
      const err = protocol === 'native'
        ? nativeEvent(index + 1, nativeErrorBody('InternalError', 'An internal error has occured during streaming.', requestId), { event: 'error', status: 500, nl })
        : openAiEvent(openAiErrorBody('internal_error', 'An internal error has occured during streaming.', 'internal_error'), { nl })
      await write(res, batch + err, options, random)
      record.events_sent = index
      return res.end()
    }
    if (index === options.disconnectAt) {
      const bytes = Buffer.from(batch + event)
      // Cut inside the event — inside a multi-byte character where there is one.
      let cut = Buffer.byteLength(batch) + Math.floor(Buffer.byteLength(event) / 2)
      while (cut < bytes.length && (bytes[cut] & 0xc0) !== 0x80) cut++
      if (cut >= bytes.length) cut = Buffer.byteLength(batch) + Math.floor(Buffer.byteLength(event) / 2)
      await write(res, bytes.subarray(0, cut), options, random)
      record.events_sent = index
      // Let the half event reach the wire before the socket goes, or Node would drop it.
      await new Promise((resolve) => res.write('', resolve))
      return res.destroy()
    }
    if (index === options.stallAt) {
      if (batch) await write(res, batch, options, random)
      batch = ''
      if (!options.stallMs) return // hold the socket open until the client goes away
      await sleep(options.stallMs)
      if (closed) return
    }
    const data = index === options.malformedAt ? event.replace(/data:\s?\{/, (m) => `${m}not json,`) : event
    batch += data
    index++
    record.events_sent = index
    if (index % options.batch === 0) {
      // Tagged requests keep when each event went out (benchmarks compare it with arrival).
      if (options.tag) record.write_times.push(performance.timeOrigin + performance.now())
      await write(res, batch, options, random)
      batch = ''
      if (options.pace) await sleep(options.pace + (options.jitter ? Math.round((random() * 2 - 1) * options.jitter) : 0))
    }
  }
  if (closed) return
  if (batch) await write(res, batch, options, random)
  record.completed = true
  res.end()
}

async function write(res, text, options, random) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text
  if (!options.split) return writeChunk(res, bytes)
  for (let i = 0; i < bytes.length; ) {
    const n = options.split === 'random' ? 1 + Math.floor(random() * 64) : options.split
    await writeChunk(res, bytes.subarray(i, i + n))
    i += n
  }
}

function writeChunk(res, bytes) {
  if (res.destroyed) return Promise.resolve()
  if (res.write(bytes)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve(undefined)
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

function wholeNativeAnswer(answer, { think, inputTokens, requestId, format }) {
  const text = Array.from(answer.text()).join('')
  const output = estimateTokens(text)
  return nativeChunk({ content: text, reasoning: think ? answer.reasoning : undefined, finish: 'stop', usage: nativeUsage(inputTokens, output, 0), requestId, format })
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

async function readBody(req) {
  const chunks = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > MAX_BODY) break
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function redactHeaders(headers) {
  const { authorization, ...rest } = headers
  return { ...rest, authorization_present: authorization !== undefined }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
