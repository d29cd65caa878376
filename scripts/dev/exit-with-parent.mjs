// Preloaded (`node --import`) into wrangler's processes by scripts/dev/wrangler.mjs, which starts
// wrangler in a process group of its own. When the process that started this one is gone —
// scripts/dev.mjs ended by SIGKILL, which it cannot pass on — the whole group is ended: wrangler,
// both workerd processes, esbuild. Otherwise they would keep the port and the state directory.
import { watchParent } from './parent-watch.mjs'

watchParent(() => {
  const endGroup = (signal) => {
    try {
      process.kill(0, signal) // 0: this process's group
    } catch {}
  }
  endGroup('SIGTERM')
  // wrangler stops workerd on SIGTERM; whatever is still there after that is not asked twice.
  setTimeout(() => endGroup('SIGKILL'), 3000)
})
