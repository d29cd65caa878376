// P3: CPU per upstream event of the whole chain (decode → parse → map → events → encode), on
// Chinese text, against a bare TextDecoderStream → TextEncoderStream pass over the same bytes.
import { importSource } from './lib/bundle.mjs'
import { summary } from './lib/stats.mjs'

const EVENTS = 20_000

function nativeWire(events) {
  const chunks = []
  const enc = new TextEncoder()
  const texts = ['您的问题', '是：沈塘', '桥地铁站', '的信息，', '需要查询', 'stations', '表中的站', '名字段。']
  for (let i = 1; i <= events; i++) {
    const last = i === events
    const data = { output: { choices: [{ message: { content: last ? '' : texts[i % texts.length], role: 'assistant' }, finish_reason: last ? 'stop' : 'null' }] }, usage: { total_tokens: 300 + i, output_tokens: i, input_tokens: 300 }, request_id: '5f6c1e2a-0000-4000-8000-000000000001' }
    chunks.push(enc.encode(`id:${i}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify(data)}\n\n`))
  }
  return chunks
}

const bodyOf = (chunks) => {
  let i = 0
  return new ReadableStream({ pull: (c) => (i < chunks.length ? c.enqueue(chunks[i++]) : c.close()) })
}

async function drain(stream) {
  const reader = stream.getReader()
  for (;;) if ((await reader.read()).done) return
}

async function cpuMicros(fn) {
  const before = process.cpuUsage()
  await fn()
  const used = process.cpuUsage(before)
  return used.user + used.system
}

export async function measureCpu(repetitions) {
  const { pipeAnswer } = await importSource('src/stream/answer-pipeline.ts')
  const chunks = nativeWire(EVENTS)
  const options = () => ({ protocol: 'native', format: 'sse', maxEventBytes: 1 << 20, idleTimeoutMs: 60_000, heartbeatMs: 15_000, startedAt: Date.now(), meta: { request_id: 'r', model: 'qwen-plus', schema_version: 'v', tables: [] } })
  const bare = []
  const chain = []
  // Warm up the JIT on both paths before measuring.
  await drain(pipeAnswer(bodyOf(chunks), options()))
  await drain(bodyOf(chunks).pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream()))
  for (let i = 0; i < repetitions; i++) {
    bare.push((await cpuMicros(() => drain(bodyOf(chunks).pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream())))) / EVENTS)
    chain.push((await cpuMicros(() => drain(pipeAnswer(bodyOf(chunks), options())))) / EVENTS)
  }
  const added = chain.map((c, i) => c - bare[i])
  return { bare: summary(bare), chain: summary(chain), added: summary(added), events: EVENTS }
}
