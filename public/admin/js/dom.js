// Small DOM helpers: elements are built with text (never HTML from data), so a question or an SQL
// string can hold anything.

/** `el('p', {class: 'x', onclick}, 'text', child)`: attributes, listeners (on*), then children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value)
    else if (name === 'class') node.className = value
    else node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child))
  return node
}

/** A plain table of `columns` × `rows` (arrays of cells), with a caption for screen readers. */
export function table(caption, columns, rows) {
  return el(
    'div',
    // A table wider than a phone scrolls sideways: focusable, so a keyboard can scroll it too.
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', {}, el('caption', {}, caption), el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c)))), el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c === null ? '∅' : typeof c === 'object' && !(c instanceof Node) ? JSON.stringify(c) : c)))))),
  )
}

/** Calls `fn` once typing has paused for `ms`. */
export function debounce(fn, ms) {
  let timer
  return (...args) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—')
