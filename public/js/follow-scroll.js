// Keeps the newest turn in view while it grows: its question stays on screen, and as much of its
// answer as fits below it, up to the end while the whole turn fits. A reader who scrolls away is
// left where they went until they come back to the end or ask again.
// "Following" is decided from the reader's own scrolling, never by measuring after the page grew:
// growth alone cannot look like the reader leaving.

/** @param {HTMLElement} scroller the conversation's scrolling box */
export function createFollower(scroller) {
  let following = true
  /** @type {HTMLElement | null} */
  let turn = null
  /** The position we last set: the scroll event it causes is ours, not the reader's. */
  let ours = -1
  const growth = new ResizeObserver(() => update())
  new ResizeObserver(() => update()).observe(scroller)

  scroller.addEventListener(
    'scroll',
    () => {
      if (Math.abs(scroller.scrollTop - ours) <= 1) return
      ours = -1
      following = scroller.scrollHeight - scroller.clientHeight - scroller.scrollTop <= 2
    },
    { passive: true },
  )

  function update() {
    if (!following || !turn?.isConnected) return
    const end = scroller.scrollHeight - scroller.clientHeight
    const top = turn.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop - 8
    // Past the question already means the reader went to the end themselves: stay at the end.
    const target = Math.max(0, scroller.scrollTop > top + 1 ? end : Math.min(end, top))
    if (Math.abs(target - scroller.scrollTop) < 1) return
    ours = target
    scroller.scrollTop = target
  }

  return {
    /** A new question: follow its turn, whatever the reader did before. */
    start(node) {
      growth.disconnect()
      turn = node
      following = true
      growth.observe(node)
      update()
    },
    /** The answer is complete: later changes inside it (a reader opening its reasoning) move nothing. */
    settle() {
      update()
      growth.disconnect()
    },
    update,
  }
}
