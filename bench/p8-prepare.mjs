// P8: the work before the upstream call — KV read, parse + validate, prompt build — for the
// 881-table Spider schema against the 6-table demo, cold (first request of an isolate: parse)
// and warm (the per-isolate cache: one string comparison).
import { readFileSync } from 'node:fs'
import { importSource } from './lib/bundle.mjs'
import { spiderSnapshot } from './spider-snapshot.mjs'
import { summary } from './lib/stats.mjs'

export async function measurePrepare(repetitions) {
  const mod = await importSource('bench/lib/prepare-entry.ts')
  const big = JSON.stringify(mod.parseSnapshot(spiderSnapshot()).snapshot)
  const small = readFileSync('src/demo/metro-snapshot.json', 'utf8')
  const kvOf = (raw) => ({ get: async () => raw })
  let salt = 0
  let last = ''
  const time = async (raw, cold) => {
    // A cold read must miss the isolate cache: a different string each time (trailing spaces);
    // a warm one reads the same value as the call before it.
    const value = cold ? raw + ' '.repeat(++salt % 1000) : last
    last = value
    const kv = kvOf(value)
    const t0 = performance.now()
    const snapshot = await mod.loadSnapshot(kv, { cacheTtlSeconds: 60 })
    const prompt = mod.buildPrompt({ question: '沈塘桥地铁站的信息', snapshot })
    const ms = performance.now() - t0
    return { ms, chars: prompt.messages[0].content.length }
  }
  const result = {}
  for (const [label, raw] of [['small', small], ['big', big]]) {
    for (let i = 0; i < 5; i++) await time(raw, true) // warm the JIT
    const cold = []
    const warm = []
    let chars = 0
    for (let i = 0; i < repetitions; i++) {
      cold.push((await time(raw, true)).ms)
      const w = await time(raw, false)
      warm.push(w.ms)
      chars = w.chars
    }
    result[label] = { cold: summary(cold), warm: summary(warm), promptChars: chars, snapshotKB: raw.length / 1024 }
  }
  return { ...result, tables: JSON.parse(big).tables.length }
}
