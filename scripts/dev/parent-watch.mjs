// Noticing that the process which started this one has ended. A signal does not always arrive:
// npm runs scripts through `sh -c`, and npm itself passes on SIGINT and SIGTERM but dies of SIGHUP
// or SIGKILL without a word to its script; a process whose parent ended is re-parented (to init or
// a subreaper), which is how it can tell.

/**
 * Calls `onGone` once, when this process's parent has ended.
 * @param {() => void} onGone
 * @returns {() => void} stops watching
 */
export function watchParent(onGone, intervalMs = 250) {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onGone()
  }, intervalMs)
  // Watching must not keep the process alive.
  timer.unref()
  return () => clearInterval(timer)
}
