import { describe, expect, it } from 'vitest'
import { pipeAnswer, type PipelineOptions } from '../src/stream/answer-pipeline'
import nativeSeed from './fixtures/native-seed-answer.sse?raw'
import openAiText from './fixtures/openai-compat-alibaba-text.chunks.txt?raw'
import openAiReasoning from './fixtures/openai-compat-alibaba-reasoning.chunks.txt?raw'
import { bodyOf, bytes, openAiWire, readEvents, splitAt, splitEvery, withoutTimings, type ParsedEvent } from './support/streams'

const meta = { request_id: 'r1', model: 'qwen-plus', schema_version: 'v1', tables: ['stations'] }

function options(protocol: 'native' | 'openai', overrides: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    protocol,
    format: 'sse',
    maxEventBytes: 1 << 20,
    idleTimeoutMs: 5_000,
    heartbeatMs: 0,
    startedAt: Date.now(),
    meta,
    ...overrides,
  }
}

async function run(chunks: Uint8Array[], protocol: 'native' | 'openai', overrides: Partial<PipelineOptions> = {}) {
  return readEvents(pipeAnswer(bodyOf(chunks), options(protocol, overrides)))
}

function text(events: ParsedEvent[], name = 'delta'): string {
  return events.filter((e) => e.event === name).map((e) => e.data.text).join('')
}

// The first events of the seed answer: short enough to split at every offset in two and three.
const nativeShort = nativeSeed.split('\n\n').slice(0, 8).join('\n\n') + '\n\n' + nativeSeed.split('\n\n').at(-2) + '\n\n'

describe('the answer pipeline, native protocol', () => {
  it('streams meta, every delta in order, then sql, usage and done', async () => {
    const events = await run([bytes(nativeSeed)], 'native')
    expect(events[0]).toEqual({ event: 'meta', data: meta })
    expect(events.slice(-3).map((e) => e.event)).toEqual(['sql', 'usage', 'done'])
    expect(text(events)).toContain('您的问题是：沈塘桥地铁站的信息')
    expect(events.at(-3)!.data).toEqual({ sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'", ok: true })
    expect(events.at(-2)!.data).toEqual({ input_tokens: 309, output_tokens: 77, total_tokens: 386 })
    expect(events.at(-1)!.data.finish_reason).toBe('stop')
    expect(events.filter((e) => e.event === 'delta')).toHaveLength(77)
  })

  it('yields identical events when the bytes are split at any single offset, including inside a UTF-8 character', async () => {
    const data = bytes(nativeShort)
    const reference = withoutTimings(await run([data], 'native'))
    for (let offset = 1; offset < data.length; offset++) {
      expect(withoutTimings(await run(splitAt(data, [offset]), 'native')), `split at ${offset}`).toEqual(reference)
    }
  })

  it('yields identical events with CRLF line endings split at any offset', async () => {
    const data = bytes(nativeShort.replaceAll('\n', '\r\n'))
    const reference = withoutTimings(await run([bytes(nativeShort)], 'native'))
    for (let offset = 1; offset < data.length; offset++) {
      expect(withoutTimings(await run(splitAt(data, [offset]), 'native')), `split at ${offset}`).toEqual(reference)
    }
  })

  it('yields identical events when the whole recording arrives one byte at a time', async () => {
    const data = bytes(nativeSeed)
    expect(withoutTimings(await run(splitEvery(data, 1), 'native'))).toEqual(withoutTimings(await run([data], 'native')))
  })

  it('takes only the new text when a model repeats the whole answer in every event (incremental_output ignored)', async () => {
    const contents = ['您的', '您的问题', '您的问题是', '您的问题是：沈塘', '您的问题是：沈塘桥']
    const wire = contents
      .map((c, i) => `id:${i + 1}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify({ output: { choices: [{ message: { content: c }, finish_reason: i === contents.length - 1 ? 'stop' : 'null' }] } })}\n\n`)
      .join('')
    const events = await run([bytes(wire)], 'native')
    expect(text(events)).toBe('您的问题是：沈塘桥')
  })

  /** A native wire of these message pieces (content, or reasoning_content with `reasoning`). */
  function nativeWire(pieces: Array<{ content?: unknown; reasoning_content?: unknown }>): string {
    return pieces
      .map((m, i) => `id:${i + 1}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify({ output: { choices: [{ message: { role: 'assistant', ...m }, finish_reason: i === pieces.length - 1 ? 'stop' : 'null' }] } })}\n\n`)
      .join('')
  }

  it('keeps the whole answer and its SQL when an incremental answer starts "`", "``sq"', async () => {
    const pieces = ['`', '``sq', 'l\nSEL', 'ECT name', ' FROM stations', '\n```', '']
    const events = await run([bytes(nativeWire(pieces.map((content) => ({ content }))))], 'native')
    expect(text(events)).toBe('```sql\nSELECT name FROM stations\n```')
    expect(events.find((e) => e.event === 'sql')!.data).toEqual({ sql: 'SELECT name FROM stations', ok: true })
  })

  it('sends reasoning held by the cumulative check before the answer that follows it', async () => {
    const pieces = [{ reasoning_content: '嗯', content: '' }, { reasoning_content: '嗯，', content: '' }, { reasoning_content: '', content: 'SELECT 1' }, { content: '' }]
    const events = await run([bytes(nativeWire(pieces))], 'native')
    expect(events.filter((e) => e.event === 'reasoning' || e.event === 'delta').map((e) => [e.event, e.data.text])).toEqual([
      ['reasoning', '嗯'],
      ['reasoning', '嗯，'],
      ['delta', 'SELECT 1'],
    ])
  })

  it('keeps text held by the cumulative check when the upstream fails mid-stream', async () => {
    const wire = nativeWire([{ content: '好' }, { content: '好的' }]).replace(/"stop"/, '"null"') + 'event:error\n:HTTP_STATUS/500\ndata:{"code":"InternalError","message":"boom"}\n\n'
    const events = await run([bytes(wire)], 'native')
    expect(text(events)).toBe('好好的')
    expect(events.at(-2)!.data.code).toBe('upstream_error')
  })

  it('reads message content sent as an array of text parts', async () => {
    const events = await run([bytes(nativeWire([{ content: [{ text: 'SELECT ' }, { text: '1' }] }, { content: '' }]))], 'native')
    expect(text(events)).toBe('SELECT 1')
  })

  it('reads the older result_format "text" shape', async () => {
    const wire = ['SELECT 1', ''].map((t, i) => `id:${i + 1}\nevent:result\ndata:${JSON.stringify({ output: { text: t, finish_reason: i ? 'stop' : 'null' } })}\n\n`).join('')
    const events = await run([bytes(wire)], 'native')
    expect(text(events)).toBe('SELECT 1')
    expect(events.at(-1)!.data.finish_reason).toBe('stop')
  })
})

describe('the answer pipeline, compatible mode', () => {
  it('replays the recorded Qwen text stream into deltas, usage and done', async () => {
    const events = await run([bytes(openAiWire(openAiText))], 'openai')
    expect(events.at(-2)).toEqual({ event: 'usage', data: { input_tokens: 18, output_tokens: 779, total_tokens: 797 } })
    expect(events.at(-1)!.data.finish_reason).toBe('stop')
    expect(text(events)).toMatch(/^## The Festival of Shared Stories/)
    expect(events.at(-3)).toEqual({ event: 'sql', data: { sql: null, ok: false, error: expect.any(String) } })
  })

  it('replays the recorded reasoning stream: reasoning events first, then deltas', async () => {
    const events = await run([bytes(openAiWire(openAiReasoning))], 'openai')
    const names = events.map((e) => e.event).filter((n) => n === 'reasoning' || n === 'delta')
    expect(names[0]).toBe('reasoning')
    expect(names.lastIndexOf('reasoning')).toBeLessThan(names.indexOf('delta'))
    expect(text(events, 'reasoning')).toMatch(/^We are asked/)
  })

  it('yields identical events one byte at a time and with CRLF line endings', async () => {
    const reference = withoutTimings(await run([bytes(openAiWire(openAiText))], 'openai'))
    expect(withoutTimings(await run(splitEvery(bytes(openAiWire(openAiText)), 1), 'openai'))).toEqual(reference)
    expect(withoutTimings(await run(splitEvery(bytes(openAiWire(openAiText, '\r\n')), 7), 'openai'))).toEqual(reference)
  })
})

describe('upstream faults end the answer with error then done, keeping what was streamed', () => {
  const firstEvents = nativeSeed.split('\n\n').slice(0, 5).join('\n\n') + '\n\n'

  it('a mid-stream event:error', async () => {
    const wire = firstEvents + 'id:6\nevent:error\n:HTTP_STATUS/500\ndata:{"code":"InternalError","message":"boom","request_id":"x"}\n\n'
    const events = await run([bytes(wire)], 'native')
    expect(text(events)).toBe('您的问题是：沈塘桥地铁')
    expect(events.slice(-2).map((e) => e.event)).toEqual(['error', 'done'])
    expect(events.at(-2)!.data).toEqual({ code: 'upstream_error', message: expect.stringContaining('InternalError: boom'), retryable: true })
    expect(events.at(-1)!.data.finish_reason).toBe('error')
  })

  it('a connection that ends without a finish_reason', async () => {
    const events = await run([bytes(firstEvents + 'id:6\nevent:result\ndata:{"output":{"choi')], 'native')
    expect(text(events)).toBe('您的问题是：沈塘桥地铁')
    expect(events.at(-2)!.data.code).toBe('upstream_disconnected')
    expect(events.at(-1)!.event).toBe('done')
  })

  it('sends the events of one upstream read as one chunk, and reads upstream only as the client reads', async () => {
    const events = nativeShort.split('\n\n').filter(Boolean).map((e) => bytes(e + '\n\n'))
    const reads = [events.slice(0, 3), events.slice(3, 4), events.slice(4)].map((group) => Uint8Array.from(group.flatMap((b) => [...b])))
    let pulled = 0
    const body = new ReadableStream<Uint8Array>(
      { pull: (c) => (pulled < reads.length ? c.enqueue(reads[pulled++]) : c.close()) },
      { highWaterMark: 0 },
    )
    const reader = pipeAnswer(body, options('native')).getReader()
    const decoder = new TextDecoder()
    const count = (chunk: Uint8Array | undefined) => (decoder.decode(chunk).match(/^event: delta$/gm) ?? []).length
    expect(decoder.decode((await reader.read()).value)).toMatch(/^event: meta/)
    expect(pulled).toBe(0)
    expect(count((await reader.read()).value)).toBe(3)
    expect(pulled).toBe(1)
    expect(count((await reader.read()).value)).toBe(1)
    expect(pulled).toBe(2)
    while (!(await reader.read()).done) {
      // the rest: more deltas, then sql, usage, done
    }
  })

  it('a connection that breaks (the body errors)', async () => {
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) {
          sent = true
          controller.enqueue(bytes(firstEvents))
        } else controller.error(new TypeError('Network connection lost.'))
      },
    })
    const events = await readEvents(pipeAnswer(body, options('native')))
    expect(text(events)).toBe('您的问题是：沈塘桥地铁')
    expect(events.at(-2)!.data).toMatchObject({ code: 'upstream_disconnected', retryable: true })
    expect(events.at(-1)!.event).toBe('done')
  })

  it('an event whose data is not JSON', async () => {
    const events = await run([bytes(firstEvents + 'id:6\nevent:result\ndata:{not json\n\n')], 'native')
    expect(events.at(-2)!.data.code).toBe('upstream_malformed')
    expect(events.at(-1)!.event).toBe('done')
  })

  it('an event larger than the buffer limit', async () => {
    const events = await run([bytes(firstEvents + 'data:' + 'x'.repeat(5000))], 'native', { maxEventBytes: 1000 })
    expect(events.at(-2)!.data.code).toBe('upstream_malformed')
    expect(events.at(-1)!.event).toBe('done')
  })

  it('a client that disconnects while the upstream is silent cancels the upstream at once (request signal)', async () => {
    let cancelledWith: unknown = 'not cancelled'
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(firstEvents))
      },
      cancel(reason) {
        cancelledWith = reason
      },
    })
    const client = new AbortController()
    let onCancel = 0
    const reader = pipeAnswer(body, options('native', { clientSignal: client.signal, onCancel: () => onCancel++ })).getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: meta/)
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: delta/)
    // The client is gone; nothing is being written to it, and the upstream says nothing.
    client.abort(new Error('client disconnected'))
    await new Promise((r) => setTimeout(r, 0))
    expect(cancelledWith).toEqual(new Error('client disconnected'))
    expect(onCancel).toBe(1)
    // The runtime's own cancel, when it comes later, changes nothing.
    await reader.cancel('late')
    expect(onCancel).toBe(1)
  })

  it('a request signal that aborts after the answer ended cancels nothing', async () => {
    const client = new AbortController()
    let onCancel = 0
    const events = await readEvents(pipeAnswer(bodyOf([bytes(nativeShort)]), options('native', { clientSignal: client.signal, onCancel: () => onCancel++ })))
    client.abort()
    expect(events.at(-1)!.event).toBe('done')
    expect(onCancel).toBe(0)
  })

  it('silence past the idle timeout, with pings before it', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(firstEvents))
      },
    })
    const raw = await new Response(pipeAnswer(body, options('native', { idleTimeoutMs: 300, heartbeatMs: 100 }))).text()
    expect(raw).toContain(': ping\n\n')
    expect(raw).toMatch(/event: error\ndata: \{"code":"upstream_timeout".*\n\nevent: done\n/)
  })

  it('an openai chunk carrying an error object', async () => {
    const wire = 'data: {"choices":[{"delta":{"content":"SELECT"},"finish_reason":null}]}\n\ndata: {"error":{"code":"data_inspection_failed","message":"bad"}}\n\n'
    const events = await run([bytes(wire)], 'openai')
    expect(text(events)).toBe('SELECT')
    expect(events.at(-2)!.data).toMatchObject({ code: 'upstream_error', retryable: false })
  })
})

describe('the legacy text format', () => {
  it('is the answer text only, and an error as a line of text', async () => {
    const raw = await new Response(pipeAnswer(bodyOf([bytes(nativeSeed)]), options('native', { format: 'legacy-text' }))).text()
    expect(raw.startsWith('您的问题是：沈塘桥地铁站的信息')).toBe(true)
    expect(raw).not.toContain('event:')
    const broken = await new Response(
      pipeAnswer(bodyOf([bytes(nativeShort.split('\n\n').slice(0, 3).join('\n\n') + '\n\n')]), options('native', { format: 'legacy-text' })),
    ).text()
    expect(broken).toMatch(/\nError: .+\n$/)
  })
})
