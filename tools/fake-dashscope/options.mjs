// Per-request behaviour, chosen by a URL prefix `/s/<options>` so concurrent tests never share
// state and the service under test changes nothing but its base URL.
//   http://127.0.0.1:PORT/s/pace=30,split=7,tag=abc/api/v1/services/aigc/text-generation/generation

/** @typedef {{ pace: number, jitter: number, split: number | 'random' | 0, batch: number, crlf: boolean,
 *   status: number, repairStatus: number, errorAt: number, disconnectAt: number, stallAt: number, stallMs: number,
 *   malformedAt: number, length: boolean, think: boolean, full: boolean, tokens: number,
 *   answer: string | undefined, reasoning: string | undefined, repair: string | undefined, summary: string | undefined, summaryStatus: number, model: string | undefined, tag: string | undefined, seed: number, piece: number }} FakeOptions */

/** @returns {FakeOptions} */
export function defaultOptions() {
  return {
    pace: 0, jitter: 0, split: 0, batch: 1, crlf: false, status: 0, repairStatus: 0, errorAt: -1, disconnectAt: -1,
    stallAt: -1, stallMs: 0, malformedAt: -1, length: false, think: false, full: false, tokens: 0,
    answer: undefined, reasoning: undefined, repair: undefined, summary: undefined, summaryStatus: 0, model: undefined, tag: undefined, seed: 1, piece: 0,
  }
}

const INT = { pace: 'pace', jitter: 'jitter', batch: 'batch', status: 'status', repair_status: 'repairStatus', summary_status: 'summaryStatus', error_at: 'errorAt', disconnect_at: 'disconnectAt',
  stall_at: 'stallAt', stall_ms: 'stallMs', malformed_at: 'malformedAt', tokens: 'tokens', seed: 'seed', piece: 'piece' }
const FLAGS = { crlf: 'crlf', length: 'length', think: 'think', full: 'full' }

/**
 * Splits `/s/<options>/rest` into options and the DashScope path.
 * @param {string} pathname
 * @returns {{ options: FakeOptions, path: string }}
 */
export function parseOptionsPrefix(pathname, fallback = '') {
  const m = /^\/s\/([^/]*)(\/.*)?$/.exec(pathname)
  return m ? { options: parseOptions(m[1]), path: m[2] ?? '/' } : { options: parseOptions(fallback), path: pathname }
}

/** @param {string} text e.g. `pace=30,split=7` @returns {FakeOptions} */
export function parseOptions(text) {
  const options = defaultOptions()
  for (const item of text.split(',').filter(Boolean)) {
    const eq = item.indexOf('=')
    const key = decodeURIComponent(eq < 0 ? item : item.slice(0, eq))
    const value = eq < 0 ? '' : decodeURIComponent(item.slice(eq + 1))
    if (key in INT) options[INT[key]] = Number(value) || 0
    else if (key in FLAGS) options[FLAGS[key]] = true
    else if (key === 'split') options.split = value === 'random' ? 'random' : Number(value) || 0
    else if (key === 'answer') options.answer = value
    else if (key === 'summary') options.summary = value
    else if (key === 'reasoning') options.reasoning = value
    else if (key === 'repair') options.repair = value
    else if (key === 'model') options.model = value
    else if (key === 'tag') options.tag = value
  }
  if (options.batch < 1) options.batch = 1
  return options
}

/** A small deterministic PRNG (mulberry32), so "random" splits and jitter repeat run to run. */
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
