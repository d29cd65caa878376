// P3 inside workerd (bench/p3-workerd.mjs): a ~2,000-event Qwen-like answer replayed from memory,
// one upstream event per read, through our chain, through one JavaScript stream that re-enqueues
// each read (the pass-through Worker's /js/ floor), or just drained. Same reads, same enqueues per
// read: the CPU difference between `ours` and `js` is what our code adds per event.
import { createParser } from 'eventsource-parser'
import { pipeAnswer } from '../../src/stream/answer-pipeline'

const enc = new TextEncoder()
const PIECES = ['您', '的问题', '是：', '沈塘桥', '地铁站', '的信息', '，需', '要查询', 'stat', 'ions', ' 表', '中的', '站名', '字段。', '\n```', 'sql\n', 'SELECT', ' * FROM', ' stations', ' WHERE', " name = '", "沈塘桥'", ';\n```']

/** Qwen's wire (native `event:result` or compatible-mode `data:` chunks), one event per chunk. */
function wire(protocol: string, events: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 1; i <= events; i++) {
    const last = i === events
    const piece = last ? '' : PIECES[i % PIECES.length]!
    if (protocol === 'native') {
      const data = { output: { choices: [{ message: { content: piece, role: 'assistant' }, finish_reason: last ? 'stop' : 'null' }] }, usage: { total_tokens: 1866 + i, output_tokens: i, input_tokens: 1866 }, request_id: '5f6c1e2a-0000-4000-8000-000000000001' }
      out.push(enc.encode(`id:${i}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify(data)}\n\n`))
    } else {
      const data = { choices: [{ delta: { content: piece }, finish_reason: last ? 'stop' : null, index: 0, logprobs: null }], object: 'chat.completion.chunk', usage: null, created: 1764590000, system_fingerprint: null, model: 'qwen-plus', id: 'chatcmpl-5f6c1e2a' }
      out.push(enc.encode(`data: ${JSON.stringify(data)}\n\n`))
      if (last) out.push(enc.encode(`data: ${JSON.stringify({ choices: [], object: 'chat.completion.chunk', usage: { prompt_tokens: 1866, completion_tokens: i, total_tokens: 1866 + i }, created: 1764590000, model: 'qwen-plus', id: 'chatcmpl-5f6c1e2a' })}\n\ndata: [DONE]\n\n`))
    }
  }
  return out
}

function source(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream({ pull: (c) => (i < chunks.length ? c.enqueue(chunks[i++]!) : c.close()) }, { highWaterMark: 0 })
}

/**
 * The shape every mode below shares with the pass-through Worker's /js/ body and with our
 * answerStream: a pull-driven JavaScript stream that reads the upstream once per pull and enqueues
 * what `step` makes of that read. Same reads, same enqueues; only `step` differs between modes.
 */
function perRead<I, O>(body: ReadableStream<I>, step: (value: I) => O): ReadableStream<O> {
  const reader = body.getReader()
  return new ReadableStream<O>({
    async pull(c) {
      const { done, value } = await reader.read()
      if (done) c.close()
      else c.enqueue(step(value))
    },
  }, { highWaterMark: 0 })
}

/** The pass-through Worker's /js/ body: each read re-enqueued, nothing parsed. */
const oneJsStream = (body: ReadableStream<Uint8Array>) => perRead(body, (value) => value)

/**
 * The ladder between the JS stream and ours, one platform or library step at a time, each also
 * doing the steps before it: `decode` (TextDecoder per read, TextEncoder per chunk out), `sse`
 * (+ eventsource-parser), `json` (+ JSON.parse of each event's data). What is left between `json`
 * and `ours` is our own code: mapping, the events, the SQL tracker, SSE encoding, the timers.
 */
function ladder(body: ReadableStream<Uint8Array>, step: 'decode' | 'sse' | 'json'): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  let out = ''
  const parser = createParser({ onEvent: (m) => { out += step === 'json' && m.data !== '[DONE]' ? (JSON.parse(m.data) as { request_id?: string }).request_id ?? 'x' : m.data.slice(0, 4) } })
  return perRead(body, (value) => {
    const text = decoder.decode(value, { stream: true })
    if (step === 'decode') out = text
    else parser.feed(text)
    const bytes = enc.encode(out)
    out = ''
    return bytes
  })
}

/**
 * What the runtime offers instead, for `P3_MODES=...` runs: `its` writes each read into a native
 * IdentityTransformStream instead of enqueuing into a JavaScript one; `ndecode`/`nencode` decode or
 * encode with the native TextDecoderStream/TextEncoderStream piped to a JavaScript stream;
 * `decnostream` decodes without `{ stream: true }`; `deconly` decodes and passes the bytes on.
 */
function identityTransform(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const t = new IdentityTransformStream()
  const writer = t.writable.getWriter()
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return writer.close()
      await writer.write(value)
    }
  })()
  return t.readable
}
const nativeDecode = (body: ReadableStream<Uint8Array>) => perRead(body.pipeThrough(new TextDecoderStream()), (text) => enc.encode(text))
function nativeEncode(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  return perRead(body, (value) => decoder.decode(value, { stream: true })).pipeThrough(new TextEncoderStream())
}
function decodeNoStream(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  return perRead(body, (value) => enc.encode(decoder.decode(value)))
}
function decodeOnly(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  return perRead(body, (value) => {
    decoder.decode(value, { stream: true })
    return value
  })
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader()
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return bytes
    bytes += value.byteLength
  }
}

const cache = new Map<string, Uint8Array[]>()

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const mode = url.searchParams.get('mode') ?? 'ours'
    const protocol = url.searchParams.get('protocol') === 'openai' ? 'openai' : 'native'
    const events = Number(url.searchParams.get('events') ?? 2000)
    const n = Number(url.searchParams.get('n') ?? 1)
    const key = `${protocol}:${events}`
    if (!cache.has(key)) cache.set(key, wire(protocol, events))
    const chunks = cache.get(key)!
    let bytes = 0
    for (let i = 0; i < n; i++) {
      const body = source(chunks)
      if (mode === 'bare') bytes = await drain(body)
      else if (mode === 'js') bytes = await drain(oneJsStream(body))
      else if (mode === 'its') bytes = await drain(identityTransform(body))
      else if (mode === 'ndecode') bytes = await drain(nativeDecode(body))
      else if (mode === 'nencode') bytes = await drain(nativeEncode(body))
      else if (mode === 'decnostream') bytes = await drain(decodeNoStream(body))
      else if (mode === 'deconly') bytes = await drain(decodeOnly(body))
      else if (mode === 'decode' || mode === 'sse' || mode === 'json') bytes = await drain(ladder(body, mode))
      else bytes = await drain(pipeAnswer(body, { protocol, format: 'sse', maxEventBytes: 1 << 20, idleTimeoutMs: 60_000, heartbeatMs: 15_000, startedAt: Date.now(), meta: { request_id: 'r', model: 'qwen-plus', schema_version: 'v', tables: [] } }))
    }
    return Response.json({ mode, protocol, events: chunks.length, bytes })
  },
}
