// Glossary and comment overlays (edited as JSON, checked by the service against the snapshot when
// saved: an unknown table or column is listed at once), the schema refresh, and the role preview.
import { call } from './admin-api.js'
import { t } from './admin-text.js'
import { debounce, el, table, when } from './dom.js'

export function glossaryView() {
  const text = document.getElementById('glossary-text')
  const result = document.getElementById('glossary-result')
  const overlay = document.getElementById('overlay-text')
  const overlayResult = document.getElementById('overlay-result')
  // As a term is typed, the service's own check (nothing stored): an unknown table or column is said at once.
  let newest = 0
  text.addEventListener(
    'input',
    debounce(async () => {
      const mine = ++newest
      let json
      try {
        json = JSON.parse(text.value)
      } catch {
        return say(result, false, t.invalidJson)
      }
      try {
        const r = await call('POST', '/v1/admin/glossary/check', { json })
        if (mine === newest) say(result, r.ok, r.ok ? t.glossaryFits(r.version) : t.failed(r.message), r.problems.map(describe))
      } catch (err) {
        if (mine === newest) say(result, false, t.failed(err.message))
      }
    }, 400),
  )
  document.getElementById('glossary-save').addEventListener('click', () =>
    save(text, result, (json) => call('PUT', '/v1/admin/glossary', { json }), (r) => t.glossarySaved(r)),
  )
  document.getElementById('overlay-save').addEventListener('click', () =>
    save(overlay, overlayResult, (json) => call('PUT', '/v1/admin/schema/overlay?refresh=true', { json }), () => t.overlaySaved),
  )
  return async () => {
    const [glossary, comments] = await Promise.all([call('GET', '/v1/admin/glossary'), call('GET', '/v1/admin/schema/overlay')])
    text.value = JSON.stringify(glossary, null, 2)
    overlay.value = JSON.stringify(comments, null, 2)
  }
}

async function save(textarea, result, put, said) {
  let json
  try {
    json = JSON.parse(textarea.value)
  } catch {
    return say(result, false, t.invalidJson)
  }
  try {
    say(result, true, said(await put(json)))
  } catch (err) {
    // A refused glossary lists every reference that does not fit the schema (error.details).
    say(result, false, t.failed(err.message), (err.details ?? []).map(describe))
  }
}

const describe = (d) => (d.ref ? `${d.term} → ${d.ref}: ${d.problem}` : `${d.term ?? ''} ${d.problem ?? JSON.stringify(d)}`)

function say(box, ok, message, items = []) {
  box.dataset.state = ok ? 'ok' : 'bad'
  box.replaceChildren(el('p', { class: ok ? 'good' : 'bad' }, message), items.length ? el('ul', {}, items.map((i) => el('li', {}, i))) : null)
}

export function schemaView() {
  const state = document.getElementById('schema-state')
  const result = document.getElementById('schema-result')
  const select = document.getElementById('role-select')
  const view = document.getElementById('role-view')
  const load = async () => {
    const [schema, roles] = await Promise.all([call('GET', '/v1/admin/schema'), call('GET', '/v1/admin/roles').catch(() => ({ recorded: [] }))])
    state.replaceChildren(
      fact(t.snapshotVersion, schema.snapshot?.version ?? '—'),
      fact(t.tablesCount, schema.snapshot?.tables ?? '—'),
      fact(t.lastRefresh, schema.last_refresh ? `${when(schema.last_refresh.at)} · ${schema.last_refresh.ok === false ? t.failed(schema.last_refresh.error?.message ?? '') : t.verdictOk}` : '—'),
    )
    select.replaceChildren(...roles.recorded.map((r) => el('option', { value: r }, r)))
    if (!roles.recorded.length) view.replaceChildren(el('p', {}, t.noRoles))
  }
  document.getElementById('schema-refresh').addEventListener('click', async () => {
    result.replaceChildren(el('p', { class: 'status' }, t.loading))
    try {
      const r = await call('POST', '/v1/admin/schema/refresh')
      result.replaceChildren(el('pre', { class: 'code' }, JSON.stringify(r, null, 2)))
      await load()
    } catch (err) {
      result.replaceChildren(el('p', { class: 'bad' }, t.failed(err.message)))
    }
  })
  document.getElementById('role-preview').addEventListener('click', async () => {
    if (!select.value) return
    try {
      const r = await call('GET', `/v1/admin/roles/${encodeURIComponent(select.value)}/view`)
      view.replaceChildren(
        table(`${t.visible}: ${r.role}`, [t.table, t.sql, t.hiddenColumns], r.tables.map((tb) => [`${tb.schema}.${tb.name}`, tb.columns.join(', '), tb.hidden_columns.join(', ') || '—'])),
        el('h3', {}, t.hiddenTables),
        r.hidden_tables.length ? el('ul', { class: 'hidden-tables' }, r.hidden_tables.map((n) => el('li', {}, n))) : el('p', {}, '—'),
      )
    } catch (err) {
      view.replaceChildren(el('p', { class: 'bad' }, t.failed(err.message)))
    }
  })
  return load
}

function fact(name, value) {
  return el('div', {}, el('dt', {}, name), el('dd', {}, String(value)))
}
