// What an answer was built from, as its `meta` event says: a ✓ 已验证 / Verified mark when an
// approved example answered it (no model call), a mark for a cached replay, and — folded under the
// answer — the examples, glossary terms and tables it used (依据 / Based on). Text only (textContent).
/** Draws (or, with no meta, clears) the marks and the folded basis of one turn, in the texts `t`. */
export function showBasis(turn, meta, t) {
  for (const old of turn.querySelectorAll('.basis, .verified-mark')) old.remove()
  if (!meta) return
  const status = turn.querySelector('.status-line')
  if (meta.verified) status.append(mark('verified', t.verified, t.verifiedDetail(meta.verified.example_id, meta.verified.approved_at, meta.verified.substituted)))
  else if (meta.cached) status.append(mark('cached', t.cached, t.cachedDetail(meta.cached.at)))
  const rows = [
    [t.basisExamples, (meta.examples ?? []).map((e) => `#${e.id} (${e.similarity})`)],
    [t.basisTerms, meta.glossary ?? []],
    [t.basisTables, meta.tables ?? []],
  ].filter(([, items]) => items.length)
  if (!rows.length) return
  const details = document.createElement('details')
  details.className = 'basis'
  const summary = document.createElement('summary')
  summary.textContent = t.basis
  const list = document.createElement('dl')
  for (const [name, items] of rows) {
    const dt = document.createElement('dt')
    dt.textContent = name
    const dd = document.createElement('dd')
    dd.textContent = items.join(', ')
    list.append(dt, dd)
  }
  details.append(summary, list)
  turn.querySelector('.answer-text').after(details)
}

function mark(kind, label, title) {
  const el = document.createElement('span')
  el.className = `verified-mark ${kind}`
  el.textContent = label
  el.title = title
  return el
}
