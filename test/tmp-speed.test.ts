import { it } from 'vitest'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { NativeChunkStream } from '../src/dashscope/map-native-chunks'
import { fakeUrl } from './support/app'

async function body(opts: string) {
  const r = await fetch(fakeUrl(opts) + '/api/v1/services/aigc/text-generation/generation', { method: 'POST', headers: { authorization: 'Bearer test-key', 'x-dashscope-sse': 'enable', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen-plus', input: { messages: [{ role: 'user', content: 'x' }] }, parameters: { incremental_output: true } }) })
  return r.body!
}
async function drain(s: ReadableStream) { const r = s.getReader(); let n = 0; for (;;) { const x = await r.read(); if (x.done) return n; n++ } }
const id = () => new TransformStream({ transform(c, ctl) { ctl.enqueue(c) } })
it('speed', async () => {
  for (const opts of ['tokens=2000', 'tokens=2000,batch=50']) {
    for (const [name, make] of [
      ['raw', (b: ReadableStream) => b],
      ['decode', (b: ReadableStream) => b.pipeThrough(new TextDecoderStream())],
      ['decode+parse', (b: ReadableStream) => b.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())],
      ['decode+parse+map', (b: ReadableStream) => b.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).pipeThrough(new NativeChunkStream())],
      ['+3 identity', (b: ReadableStream) => b.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).pipeThrough(new NativeChunkStream()).pipeThrough(id()).pipeThrough(id()).pipeThrough(id())],
    ] as const) {
      const t = Date.now()
      const n = await drain(make(await body(opts)))
      console.log(opts, name, Date.now() - t, 'ms', n)
    }
  }
}, 60000)
