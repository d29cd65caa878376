#!/usr/bin/env node
// P10, the bill: workerd CPU per answered question, read from /proc over many answers, for our
// worker beside a bare pass-through Worker and one that moves the same bytes through one
// JavaScript stream — a short answer and one of ~2,000 Qwen-like events (1–4 characters each,
// one event per upstream read: the fake writes each event alone, `pace` ms apart), in native and
// compatible mode, under `wrangler dev` and Miniflare. Run alone with `node bench/p10-bill.mjs`
// (writes the "The bill" section of BENCHMARKS.md); `npm run bench` runs it too.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { NATIVE_PATH, nativeHeaders, nativeRequest, post } from './lib/http-client.mjs'
import { startMiniflareService } from './lib/miniflare-service.mjs'
import { startPassthroughDev } from './lib/passthrough-worker.mjs'
import { BENCH_KEY, startService, workerdCpuTicks } from './lib/service.mjs'
import { fmt, summary } from './lib/stats.mjs'

const CLK_TCK = 100
const OPENAI_PATH = '/compatible-mode/v1/chat/completions'
/** ~2,000 events of 1–4 characters (counted each run: `events` in the results). */
const LONG_TOKENS = 3130
const PACE_MS = 2
/** Cloudflare Workers pricing (developers.cloudflare.com/workers/platform/pricing, 2026-12). */
export const PRICE = { freeCpuMsPerRequest: 10, freeRequestsPerDay: 100_000, paidCpuUsdPerMillionMs: 0.02, paidRequestsUsdPerMillion: 0.3, paidIncludedCpuMsPerMonth: 30_000_000, paidIncludedRequestsPerMonth: 10_000_000 }

const count = (text, needle) => text.split(needle).length - 1

/** One answer through our worker (the fake answers with `options`); returns events seen. */
async function askOurs(service, options) {
  service.fake.setDefaultOptions(options)
  let deltas = 0
  const r = await post(`${service.worker.url}/v1/ask`, { question: '沈塘桥地铁站的信息' }, { onChunk: (t) => (deltas += count(t, 'event: delta')) })
  if (r.status !== 200) throw new Error(`ours: ${r.status}`)
  return deltas
}

/** One answer through a pass-through Worker (`base` = its URL, `/js` for the JS-stream one). */
async function askThrough(base, protocol, options) {
  const openai = protocol === 'openai'
  const path = openai ? OPENAI_PATH : NATIVE_PATH
  const body = openai ? { model: 'qwen-plus', messages: nativeRequest().input.messages, stream: true, stream_options: { include_usage: true } } : nativeRequest()
  const headers = openai ? { authorization: `Bearer ${BENCH_KEY}` } : nativeHeaders(BENCH_KEY)
  let events = 0
  const r = await post(`${base}/s/${options}${path}`, body, { headers, onChunk: (t) => (events += openai ? count(t, 'data: {') : count(t, 'event:result')) })
  if (r.status !== 200) throw new Error(`pass-through: ${r.status}`)
  return events
}

/**
 * CPU ms per answer: `rounds` rounds of `perRound` answers (`concurrency` at a time), workerd CPU
 * ticks of `pid`'s descendants before and after each round.
 */
async function cpuPerAnswer(pid, answer, { rounds, perRound, concurrency }) {
  await answer() // warm: the isolate, the schema cache, the connection
  const perAnswer = []
  let events = 0
  for (let r = 0; r < rounds; r++) {
    const t0 = workerdCpuTicks(pid)
    let left = perRound
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (left-- > 0) events = await answer()
    }))
    perAnswer.push((((workerdCpuTicks(pid) - t0) * 1000) / CLK_TCK) / perRound)
  }
  return { ...summary(perAnswer), events }
}

const SHORT = { rounds: 3, perRound: 20, concurrency: 4 }
const LONG = { rounds: 2, perRound: 4, concurrency: 4 }

/** Both answers, both protocols, ours and the two floors, in one runtime. */
async function measureRuntime(runtime, quick, log) {
  const short = quick ? { rounds: 2, perRound: 10, concurrency: 2 } : SHORT
  const long = quick ? { rounds: 1, perRound: 2, concurrency: 2 } : LONG
  const shortOptions = `pace=${PACE_MS}`
  const longOptions = `tokens=${LONG_TOKENS},pace=${PACE_MS}`
  const out = {}
  for (const protocol of ['native', 'openai']) {
    // The answer's own path: the SQL check (a database session per answer) is off, see the text.
    const settings = { DASHSCOPE_PROTOCOL: protocol, SQL_CHECK: 'false' }
    const start = runtime === 'Miniflare' ? () => startMiniflareService({ bindings: settings }) : () => startService(settings, { passthrough: false })
    const service = await start()
    const passthrough = runtime === 'Miniflare' ? service.passthrough : await startPassthroughDev(service.fake.url)
    // Under Miniflare every workerd is a child of this process: the idle one is counted too (it only waits).
    const oursPid = runtime === 'Miniflare' ? process.pid : service.worker.pid
    const passPid = runtime === 'Miniflare' ? process.pid : passthrough.pid
    try {
      for (const [size, options, plan] of [['short', shortOptions, short], ['long', longOptions, long]]) {
        log(`P10 (${runtime}, ${protocol}, ${size}): ours`)
        const ours = await cpuPerAnswer(oursPid, () => askOurs(service, options), plan)
        service.fake.setDefaultOptions('')
        log(`P10 (${runtime}, ${protocol}, ${size}): pass-through, one JS stream`)
        const bare = await cpuPerAnswer(passPid, () => askThrough(passthrough.url, protocol, options), plan)
        const jsStream = await cpuPerAnswer(passPid, () => askThrough(`${passthrough.url}/js`, protocol, options), plan)
        out[`${protocol}-${size}`] = { ours, bare, jsStream }
      }
    } finally {
      if (runtime !== 'Miniflare') await passthrough.stop()
      await service.stop()
    }
  }
  // A question as `npm start` answers it: the SQL checked against the (demo) database, a database
  // session per answer. The floors are the native short answer's, measured above.
  log(`P10 (${runtime}, native, short, SQL checked): ours`)
  const settings = { DASHSCOPE_PROTOCOL: 'native' }
  const service = runtime === 'Miniflare' ? await startMiniflareService({ bindings: settings }) : await startService(settings, { passthrough: false })
  try {
    const ours = await cpuPerAnswer(runtime === 'Miniflare' ? process.pid : service.worker.pid, () => askOurs(service, shortOptions), short)
    out['native-checked'] = { ...out['native-short'], ours }
  } finally {
    await service.stop()
  }
  return out
}

/** `only`: 'dev' or 'mf' to measure one runtime (a loaded machine may not start wrangler dev in time). */
export async function measureBill({ quick = false, log = console.log, only } = {}) {
  const started = Date.now()
  const result = {}
  if (only !== 'mf') result.dev = await measureRuntime('wrangler dev', quick, log)
  if (only !== 'dev') result.mf = await measureRuntime('Miniflare', quick, log)
  return { ...result, seconds: (Date.now() - started) / 1000 }
}

/** The "The bill" section of BENCHMARKS.md, from one run. */
export function billSection(r) {
  const rows = []
  for (const [runtime, x] of [['wrangler dev', r.dev], ['Miniflare', r.mf]]) {
    if (!x) continue
    for (const key of ['native-short', 'native-long', 'openai-short', 'openai-long', 'native-checked']) {
      if (!x[key]) continue
      const { ours, bare, jsStream } = x[key]
      const [protocol, size] = key.split('-')
      const label = size === 'checked' ? 'short answer, native, its SQL checked by the demo database (as `npm start` runs)' : `${size === 'short' ? 'short answer' : `long answer (${ours.events} events)`}, ${protocol === 'native' ? 'native' : 'compatible mode'}`
      rows.push(`| ${runtime} | ${label} | ${fmt(ours.p50)} (p10–p90 ${fmt(ours.p10)}–${fmt(ours.p90)}) | ${fmt(bare.p50)} | ${fmt(jsStream.p50)} | ${fmt(ours.p50 - bare.p50)} | ${fmt(ours.p50 - jsStream.p50)} |`)
    }
  }
  const bill = (ms) => {
    const freePerDay = ms <= PRICE.freeCpuMsPerRequest ? `${PRICE.freeRequestsPerDay.toLocaleString('en')} (the request cap)` : '0 — over the 10 ms limit, each is cut off'
    const perMillion = (ms * 1e6 * PRICE.paidCpuUsdPerMillionMs) / 1e6 + PRICE.paidRequestsUsdPerMillion
    return { freePerDay, perMillion }
  }
  const d = r.dev ?? r.mf
  const priced = r.dev ? 'wrangler dev' : 'Miniflare'
  const line = (key, what) => {
    const ms = d[key].ours.p50
    const b = bill(ms)
    return `| ${what} | ${fmt(ms)} | ${b.freePerDay} | $${fmt(b.perMillion, 2)} (CPU $${fmt((ms * PRICE.paidCpuUsdPerMillionMs), 2)} + requests $${fmt(PRICE.paidRequestsUsdPerMillion, 2)}) |`
  }
  return [
    BILL_START,
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`node bench/p10-bill.mjs\` (${fmt(r.seconds, 0)} s), workerd CPU (user + system) from /proc over`,
    `${SHORT.rounds}×${SHORT.perRound} short and ${LONG.rounds}×${LONG.perRound} long answers per row (p50 of the rounds; /proc counts 10 ms ticks, hence many answers per round).`,
    `The fake DashScope writes each event alone, ${PACE_MS} ms apart (one event per upstream read, as Qwen does); the long answer is ~2,000 events of 1–4 characters.`,
    'Ours is the whole request — auth, config, the schema prompt (snapshot held in the isolate), the upstream call, the stream — with `SQL_CHECK=false`: checking the SQL opens a',
    'database session per answer, whose cost depends on the database and the driver, not on this code; the last row of each runtime has it on, as `npm start` runs (its floors are the',
    'native short answer\'s). The demo database is configured, so each answer also writes its',
    'feedback record to (local) KV. Under Miniflare, CPU is summed over every workerd of the bench process (the idle pass-through included: it only waits); under wrangler dev over',
    "each dev server's workerd processes (its proxy included).",
    '',
    '| runtime | answer | ours, CPU ms/answer | bare pass-through | one JS stream | ours − pass-through | ours − JS stream |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `What it means (${priced} numbers; Cloudflare's published prices: the free plan allows ${PRICE.freeCpuMsPerRequest} ms of CPU per request and ${PRICE.freeRequestsPerDay.toLocaleString('en')} requests a day;`,
    `Standard (paid) bills $${fmt(PRICE.paidCpuUsdPerMillionMs)} per million CPU ms and $${fmt(PRICE.paidRequestsUsdPerMillion)} per million requests beyond ${PRICE.paidIncludedCpuMsPerMonth / 1e6} million CPU ms and ${PRICE.paidIncludedRequestsPerMonth / 1e6} million requests a month — developers.cloudflare.com/workers/platform/pricing):`,
    '',
    '| question | CPU ms | questions a day on the free plan | paid, per million questions beyond the included amounts |',
    '|---|---|---|---|',
    line('native-short', 'short answer, native'),
    line('native-long', '~2,000-event answer, native'),
    line('openai-short', 'short answer, compatible mode'),
    line('openai-long', '~2,000-event answer, compatible mode'),
    ...(d['native-checked'] ? [line('native-checked', 'short answer, native, SQL checked')] : []),
    '',
    BILL_END,
  ].join('\n')
}

export const BILL_START = '<!-- bill: regenerated by `node bench/p10-bill.mjs` (and `npm run bench`) between these lines -->'
export const BILL_END = '<!-- /bill -->'

/**
 * Puts the section into BENCHMARKS.md, replacing the previous one; a first one goes above the part
 * `npm run bench` regenerates (which would drop it).
 */
export function writeBillSection(section, file = 'BENCHMARKS.md') {
  const text = readFileSync(file, 'utf8')
  const a = text.indexOf(BILL_START)
  const b = text.indexOf(BILL_END)
  if (a >= 0 && b > a) return writeFileSync(file, text.slice(0, a) + section + text.slice(b + BILL_END.length))
  const results = text.indexOf(RESULTS_MARKER)
  const at = results >= 0 ? results : text.length
  writeFileSync(file, `${text.slice(0, at).trimEnd()}\n\n## The bill (P10)\n\n${section}\n\n${text.slice(at)}`)
}

/** bench/run.mjs's marker: the part below it is regenerated. */
const RESULTS_MARKER = '<!-- results: regenerated by `npm run bench` below this line -->'

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick')
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7)
  const t0 = Date.now()
  const r = await measureBill({ quick, only, log: (m) => console.log(`[p10 ${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}`) })
  writeFileSync(`/tmp/txt2sql-p10${only ? `-${only}` : ''}.json`, JSON.stringify(r, null, 2))
  const section = billSection(r)
  writeBillSection(section)
  console.log(section)
}
