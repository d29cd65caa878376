#!/usr/bin/env node
// P3 in workerd: CPU per answer of our stream chain against one JavaScript stream and a bare drain,
// the upstream replayed from memory (bench/lib/stream-entry.ts) so that no network, proxy or HTTP
// parsing is counted — only the JavaScript each upstream read costs. workerd's CPU (user + system)
// from /proc over `answers` answers per round, the modes interleaved round by round.
//   node bench/p3-workerd.mjs [--rounds=7] [--answers=40]
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { startScriptWorker } from './lib/passthrough-worker.mjs'
import { workerdCpuTicks } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

const CLK_TCK = 100
export const MODES = (process.env.P3_MODES ?? 'bare,js,decode,sse,json,ours').split(',')

export async function startStreamWorker({ inspectorPort } = {}) {
  const out = await build({ entryPoints: ['bench/lib/stream-entry.ts'], bundle: true, format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'], minify: !process.env.BENCH_NO_MINIFY, write: false, logLevel: 'error' })
  return startScriptWorker({ name: 'p3', script: out.outputFiles[0].text, inspectorPort })
}

/** ms of workerd CPU per answer for each mode and protocol; `events` per answer. */
export async function measureStreamCpu({ rounds = 7, answers = 40, events = 2000, log = () => {} } = {}) {
  const worker = await startStreamWorker()
  const result = {}
  try {
    for (const protocol of ['native', 'openai']) {
      const run = async (mode, n) => {
        const r = await fetch(`${worker.url}/?mode=${mode}&protocol=${protocol}&events=${events}&n=${n}`)
        if (r.status !== 200) throw new Error(`${mode}: ${r.status} ${await r.text()}`)
        return r.json()
      }
      for (const mode of MODES) await run(mode, 5) // warm: the JIT on every path
      const perAnswer = Object.fromEntries(MODES.map((m) => [m, []]))
      for (let round = 0; round < rounds; round++) {
        for (const mode of MODES) {
          const t0 = workerdCpuTicks(process.pid)
          await run(mode, answers)
          perAnswer[mode].push((((workerdCpuTicks(process.pid) - t0) * 1000) / CLK_TCK) / answers)
        }
        log(`${protocol} round ${round + 1}/${rounds}: ${MODES.map((m) => `${m} ${perAnswer[m].at(-1).toFixed(2)}`).join(', ')} ms/answer`)
      }
      const oursMinusJs = (perAnswer.ours ?? []).map((v, i) => v - perAnswer.js[i])
      result[protocol] = { ...Object.fromEntries(MODES.map((m) => [m, summary(perAnswer[m])])), oursMinusJs: summary(oursMinusJs), events }
    }
  } finally {
    await worker.stop()
  }
  return result
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback)
  const r = await measureStreamCpu({ rounds: arg('rounds', 7), answers: arg('answers', 40), log: console.log })
  for (const [protocol, x] of Object.entries(r)) {
    console.log(`${protocol} p50 ms/answer: ${MODES.map((m) => `${m} ${x[m].p50.toFixed(2)}`).join(', ')}`)
    if (x.ours) console.log(`${protocol}: bare ${x.bare.p50.toFixed(2)}, one JS stream ${x.js.p50.toFixed(2)}, ours ${x.ours.p50.toFixed(2)} ms per ${x.events}-event answer; ours − JS stream p50 ${x.oursMinusJs.p50.toFixed(2)} ms (p10–p90 ${x.oursMinusJs.p10.toFixed(2)}–${x.oursMinusJs.p90.toFixed(2)}) = ${((x.oursMinusJs.p50 * 1000) / x.events).toFixed(2)} µs/event`)
  }
}
