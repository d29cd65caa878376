// Building elements in script (the shared views draw inside a host page's shadow root, where no
// template of the page exists). Text only: strings become text nodes, never HTML.

/** `h('p.a.b', { hidden: true, role: 'status' }, ...children)`: the element, its classes, properties or attributes, children. */
export function h(spec, props = {}, ...children) {
  const [tag, ...classes] = spec.split('.')
  const el = document.createElement(tag)
  if (classes.length) el.className = classes.join(' ')
  for (const [k, v] of Object.entries(props)) {
    if (k === 'hidden' || k === 'tabIndex' || k === 'type') el[k] = v
    else el.setAttribute(k, v)
  }
  el.append(...children)
  return el
}
