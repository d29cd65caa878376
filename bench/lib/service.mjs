// The system under test as a user runs it: the fake DashScope in this process, the worker under
// `wrangler dev` (workerd) through `npm start`'s script, both on 127.0.0.1.
import { readdirSync, readFileSync } from 'node:fs'
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startDevServer } from '../../scripts/start-dev-server.mjs'

export const BENCH_KEY = 'bench-key'

/** `env`: more settings for the worker (e.g. DASHSCOPE_PROTOCOL). */
export async function startService(env = {}) {
  const fake = await startFakeDashScope({ apiKey: BENCH_KEY })
  const worker = await startDevServer({ DASHSCOPE_API_KEY: BENCH_KEY, DASHSCOPE_BASE_URL: fake.url, API_KEYS: undefined, ADMIN_TOKEN: undefined, ...env })
  return {
    fake,
    worker,
    stop: async () => {
      await worker.stop()
      await fake.close()
    },
  }
}

/** Resident memory (KiB) of every workerd process below `pid`. */
export function workerdRssKiB(pid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0
  const stack = [pid]
  while (stack.length) {
    const p = stack.pop()
    for (const child of children.get(p) ?? []) {
      stack.push(child)
      try {
        const comm = readFileSync(`/proc/${child}/comm`, 'utf8').trim()
        if (comm.startsWith('workerd')) total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child}/status`, 'utf8'))?.[1] ?? 0)
      } catch {
        // gone
      }
    }
  }
  return total
}
