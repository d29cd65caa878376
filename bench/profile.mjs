#!/usr/bin/env node
// Where the time of one fast stream goes inside the worker: a V8 CPU profile of workerd (through
// the DevTools protocol Miniflare opens) while P4's stream runs, printed as self time per function
// and written to /tmp/txt2sql-p4.cpuprofile (open it in Chrome DevTools). Names stay readable
// with BENCH_NO_MINIFY=1, which this script sets.
//   node bench/profile.mjs
import { writeFileSync } from 'node:fs'
import { WebSocket } from 'ws'
import { freePort } from '../scripts/start-dev-server.mjs'
import { measureThroughput } from './p4-p5-bulk.mjs'
import { startMiniflareService } from './lib/miniflare-service.mjs'

process.env.BENCH_NO_MINIFY = '1'
const inspectorPort = await freePort()
const service = await startMiniflareService({ inspectorPort })
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
  const r = await measureThroughput(service, 2)
  const { result } = await send('Profiler.stop')
  ws.close()
  writeFileSync('/tmp/txt2sql-p4.cpuprofile', JSON.stringify(result.profile))
  const { nodes, samples, timeDeltas } = result.profile
  const perNode = new Map()
  samples.forEach((n, i) => perNode.set(n, (perNode.get(n) ?? 0) + (timeDeltas[i] ?? 0)))
  const self = new Map()
  for (const n of nodes) {
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + (perNode.get(n.id) ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  console.log(`P4 worker/direct ratio while profiling: ${r.ratio.p50.toFixed(2)}×; profile: /tmp/txt2sql-p4.cpuprofile`)
  for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${(v / 1000).toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
  }
} finally {
  await service.stop()
}
