// The system under test as a user runs it: the fake DashScope in this process, the worker under
// `wrangler dev` (workerd) through `npm start`'s script, both on 127.0.0.1; next to it the bare
// pass-through Worker under its own `wrangler dev` (the floor of wrangler dev's rows).
import { readdirSync, readFileSync } from 'node:fs'
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startDevServer } from '../../scripts/start-dev-server.mjs'
import { startPassthroughDev } from './passthrough-worker.mjs'

export const BENCH_KEY = 'bench-key'

/**
 * `env`: more settings for the worker (e.g. DASHSCOPE_PROTOCOL); `passthrough`: also start the bare
 * pass-through Worker under wrangler dev.
 */
export async function startService(env = {}, { passthrough = true } = {}) {
  const fake = await startFakeDashScope({ apiKey: BENCH_KEY })
  // A free port can be taken by another process before wrangler binds it (other jobs share the
  // machine): such a start is tried again, twice.
  const start = () => startDevServer({ DASHSCOPE_API_KEY: BENCH_KEY, DASHSCOPE_BASE_URL: fake.url, API_KEYS: undefined, ADMIN_TOKEN: undefined, ...env })
  let worker
  for (let attempt = 1; !worker; attempt++) {
    try {
      worker = await start()
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err
    }
  }
  let bare
  try {
    bare = passthrough ? await startPassthroughDev(fake.url) : undefined
  } catch (err) {
    await worker.stop()
    await fake.close()
    throw err
  }
  return {
    fake,
    worker,
    passthrough: bare,
    stop: async () => {
      await Promise.allSettled([worker.stop(), bare?.stop()])
      await fake.close()
    },
  }
}

/** The workerd processes below `pid` (wrangler dev's, or Miniflare's below this process). */
export function workerdPids(pid) {
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
  const found = []
  const stack = [pid]
  while (stack.length) {
    const p = stack.pop()
    for (const child of children.get(p) ?? []) {
      stack.push(child)
      try {
        if (readFileSync(`/proc/${child}/comm`, 'utf8').trim().startsWith('workerd')) found.push(child)
      } catch {
        // gone
      }
    }
  }
  return found
}

/** `read(p)` summed over every workerd process below `pid`; a process that is gone counts 0. */
function sumOverWorkerd(pid, read) {
  let total = 0
  for (const p of workerdPids(pid)) {
    try {
      total += read(p)
    } catch {
      // gone
    }
  }
  return total
}

/** Resident memory (KiB) of every workerd process below `pid`. */
export function workerdRssKiB(pid) {
  return sumOverWorkerd(pid, (p) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0))
}

/** CPU ticks (user + system, /proc/<pid>/stat fields 14 and 15) of every workerd below `pid`. */
export function workerdCpuTicks(pid) {
  return sumOverWorkerd(pid, (p) => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  })
}

/** Open file handles (entries of /proc/<pid>/fd: sockets, pipes, files) of every workerd below `pid`. */
export function workerdOpenFiles(pid) {
  return sumOverWorkerd(pid, (p) => readdirSync(`/proc/${p}/fd`).length)
}
