// The model's answer as it streams: plain text, with its ``` fenced blocks shown as code
// (highlighted as SQL once the fence closes). Fences may arrive split across deltas, so up to
// two trailing backticks wait for the next delta before they are written.
import { renderSql } from './sql-highlight.js'

/** @param {HTMLElement} container */
export function createAnswerWriter(container) {
  let inCode = false
  let skippingLanguage = false // the rest of the opening fence's line: ```sql
  let afterBlock = false // the line break that ends a closing fence: the block already ends the line
  let pending = ''
  /** @type {HTMLElement} */
  let current = open()

  function open() {
    if (inCode) {
      const pre = document.createElement('pre')
      pre.className = 'sql answer-code'
      pre.tabIndex = 0 // scrollable sideways by keyboard
      const code = document.createElement('code')
      pre.append(code)
      container.append(pre)
      return code
    }
    const span = document.createElement('span')
    container.append(span)
    return span
  }

  function write(text) {
    if (!text) return
    if (skippingLanguage) {
      const nl = text.indexOf('\n')
      if (nl < 0) return
      skippingLanguage = false
      text = text.slice(nl + 1)
    }
    if (afterBlock) {
      afterBlock = false
      if (text.startsWith('\n')) text = text.slice(1)
    }
    current.append(text)
  }

  function toggle() {
    if (inCode) {
      // The block is complete: highlight it (the trailing newline before the fence is dropped).
      renderSql(current, current.textContent.replace(/\n$/, ''))
      afterBlock = true
    } else {
      // A block starts its own line: the text's line break before the fence would add a blank one.
      current.textContent = current.textContent.replace(/\n$/, '')
    }
    inCode = !inCode
    skippingLanguage = inCode
    current = open()
  }

  return {
    append(text) {
      let s = pending + text
      pending = ''
      for (;;) {
        const i = s.indexOf('```')
        if (i < 0) {
          const keep = /`{1,2}$/.exec(s)?.[0] ?? ''
          write(s.slice(0, s.length - keep.length))
          pending = keep
          return
        }
        write(s.slice(0, i))
        toggle()
        s = s.slice(i + 3)
      }
    },
    /** The answer ended: write what was held back (an unclosed block stays as it is). */
    finish() {
      write(pending)
      pending = ''
    },
  }
}

const sameSql = (text) => text.replace(/[\s;；。]+$/u, '').replace(/\s+/g, ' ').trim()

/**
 * The page shows each SQL once: the answer's code block holding `sql` becomes a link to `target`,
 * where it is shown with its check (and rows). A block with other code stays as it is.
 */
export function foldSqlBlock(container, sql, label, target) {
  const block = [...container.querySelectorAll('pre.answer-code')].findLast((pre) => sameSql(pre.textContent) === sameSql(sql))
  if (!block) return
  const link = document.createElement('button')
  link.type = 'button'
  link.className = 'sql-pointer'
  link.textContent = label
  link.addEventListener('click', () => {
    target.scrollIntoView({ block: 'nearest' })
    target.focus({ preventScroll: true })
  })
  block.replaceWith(link)
}
