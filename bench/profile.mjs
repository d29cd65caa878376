#!/usr/bin/env node
// Where the time goes inside the worker: a V8 CPU profile of our isolate in workerd (through the
// DevTools protocol Miniflare opens), printed as self time per function and written to
// /tmp/txt2sql-<what>.cpuprofile (open it in Chrome DevTools). Names stay readable with
// BENCH_NO_MINIFY=1, which this script sets.
//   node bench/profile.mjs                       P4's fast stream (as fast as the fake can write)
//   node bench/profile.mjs --answer=short [--n=200] [--protocol=openai]
//   node bench/profile.mjs --answer=long  [--n=10]  [--protocol=openai]
// --answer runs P10's answers (SQL_CHECK=false, one event per upstream read, 2 ms apart) one after
// another and prints the isolate's sampled JavaScript time per answer beside the functions: what
// the platform bills, without the local simulators (KV, the dev proxy) that /proc also counts.
import { writeFileSync } from 'node:fs'
import { WebSocket } from 'ws'
import { freePort } from '../scripts/start-dev-server.mjs'
import { measureThroughput } from './p4-p5-bulk.mjs'
import { post } from './lib/http-client.mjs'
import { startMiniflareService } from './lib/miniflare-service.mjs'
import { workerdCpuTicks } from './lib/service.mjs'

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const answer = arg('answer', '')
const protocol = arg('protocol', 'native')
const n = Number(arg('n', answer === 'long' ? 10 : 200))
const what = answer ? `${answer}-${protocol}` : 'p4'

process.env.BENCH_NO_MINIFY = '1'
const inspectorPort = await freePort()
const service = await startMiniflareService({ inspectorPort, bindings: answer ? { DASHSCOPE_PROTOCOL: protocol, SQL_CHECK: 'false' } : {} })
/** One of P10's answers through our worker. */
async function ask() {
  const r = await post(`${service.worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' })
  if (r.status !== 200) throw new Error(`ask: ${r.status}`)
}
if (answer) {
  service.fake.setDefaultOptions(answer === 'long' ? 'tokens=3130,pace=2' : 'pace=2')
  for (let i = 0; i < 5; i++) await ask() // warm: the isolate, the schema cache, the JIT
}
try {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()
  const target = targets.find((t) => t.id.startsWith('core:user'))
  const ws = new WebSocket(target.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let id = 0
  const pending = new Map()
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m))
    pending.get(msg.id)?.(msg)
    pending.delete(msg.id)
  })
  const send = (method, params = {}) => new Promise((resolve) => {
    pending.set(++id, resolve)
    ws.send(JSON.stringify({ id, method, params }))
  })
  await send('Profiler.enable')
  await send('Profiler.setSamplingInterval', { interval: 100 })
  await send('Profiler.start')
  let headline
  let ticks
  if (answer) {
    const t0 = workerdCpuTicks(process.pid)
    for (let i = 0; i < n; i++) await ask()
    ticks = workerdCpuTicks(process.pid) - t0
  } else {
    const r = await measureThroughput(service, 2)
    headline = `P4 worker/direct ratio while profiling: ${r.ratio.p50.toFixed(2)}×`
  }
  const { result } = await send('Profiler.stop')
  ws.close()
  const file = `/tmp/txt2sql-${what}.cpuprofile`
  writeFileSync(file, JSON.stringify(result.profile))
  const { nodes, samples, timeDeltas } = result.profile
  const perNode = new Map()
  samples.forEach((n, i) => perNode.set(n, (perNode.get(n) ?? 0) + (timeDeltas[i] ?? 0)))
  const self = new Map()
  for (const n of nodes) {
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + (perNode.get(n.id) ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const idle = [...self.entries()].filter(([k]) => /^\((idle|program|garbage collector)\)/.test(k))
  if (answer) {
    const busy = total - idle.filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0)
    headline = `${n} ${what} answers: ${(busy / 1000 / n).toFixed(2)} ms of the isolate's time per answer outside (idle) (${idle.map(([k, v]) => `${k.split(' ')[0]} ${(v / 1000 / n).toFixed(2)}`).join(', ')} ms per answer); workerd CPU from /proc while profiling: ${((ticks * 10) / n).toFixed(2)} ms per answer`
  }
  console.log(`${headline}; profile: ${file}`)
  for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${(v / 1000).toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
  }
} finally {
  await service.stop()
}
