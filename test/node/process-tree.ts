import { readdirSync, readFileSync } from 'node:fs'

// Processes as /proc shows them, for tests that must prove a command left nothing behind: each is
// recorded with its start time, so a pid the kernel hands to someone else later is not mistaken
// for it. Only the tree of a process the test started is ever looked at.

export type Proc = { pid: number; ppid: number; start: string; state: string; command: string }

function read(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; the fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
    return { pid, ppid: Number(fields[1]), start: fields[19]!, state: fields[0]!, command }
  } catch {
    return null
  }
}

/** `rootPid` and every process descended from it, now. */
export function processTree(rootPid: number): Proc[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => read(Number(d))).filter((p): p is Proc => p !== null)
  const tree: Proc[] = []
  const root = all.find((p) => p.pid === rootPid)
  if (!root) return tree
  const queue = [root]
  while (queue.length) {
    const p = queue.shift()!
    tree.push(p)
    queue.push(...all.filter((c) => c.ppid === p.pid))
  }
  return tree
}

/** Those of `procs` still running (the same process, not a zombie waiting to be reaped). */
export function stillRunning(procs: Proc[]): Proc[] {
  return procs.filter((p) => {
    const now = read(p.pid)
    return now !== null && now.start === p.start && now.state !== 'Z'
  })
}
