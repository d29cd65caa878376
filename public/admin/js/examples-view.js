// The review queue (pending feedback) and the examples list: both are GET /v1/admin/examples with
// a filter, shown as example cards; the queue adds bulk actions, the list CSV export and import.
import { call } from './admin-api.js'
import { t } from './admin-text.js'
import { el } from './dom.js'
import { exampleCard } from './example-card.js'
import { toCsv } from '../../js/result-data.js'

export function reviewView({ announce }) {
  const list = document.getElementById('review-list')
  const status = document.getElementById('review-status')
  const all = document.getElementById('review-all')
  let newest = 0
  const load = async () => {
    const mine = ++newest
    status.textContent = t.loading
    try {
      const res = await call('GET', '/v1/admin/examples?status=pending&limit=200')
      if (mine !== newest) return
      list.replaceChildren(...res.examples.map((e) => exampleCard(e, { onChanged: load, announce, home: document.getElementById('review-title') })))
      status.textContent = res.examples.length ? t.count(res.examples.length, res.total) : t.none
      all.checked = false
    } catch (err) {
      status.textContent = t.failed(err.message)
    }
  }
  all.addEventListener('change', () => {
    for (const box of list.querySelectorAll('input.select')) box.checked = all.checked
  })
  for (const button of document.querySelectorAll('#review [data-bulk]')) {
    button.addEventListener('click', async () => {
      const ids = [...list.querySelectorAll('input.select:checked')].map((b) => b.dataset.id)
      if (!ids.length) return
      const action = button.dataset.bulk
      // One call per example (each is checked and recorded on its own); refreshed once, with the last.
      const failures = []
      for (const [i, id] of ids.entries()) {
        const refresh = i === ids.length - 1 ? '?refresh=true' : ''
        try {
          if (action === 'delete') await call('DELETE', `/v1/admin/examples/${id}${refresh}`)
          else await call('POST', `/v1/admin/examples/${id}/${action}${refresh}`)
        } catch (err) {
          failures.push(`#${id}: ${err.message}`)
        }
      }
      announce(failures.length ? t.failed(failures.join('; ')) : t.done(button.textContent), failures.length > 0)
      await load()
      button.focus()
    })
  }
  return load
}

export function examplesView({ announce }) {
  const list = document.getElementById('examples-list')
  const line = document.getElementById('examples-status-line')
  const form = document.getElementById('examples-filter')
  let shown = []
  // Loads may overlap (an import's, then a filter's): only the newest one is shown.
  let newest = 0
  const load = async () => {
    const mine = ++newest
    const query = new URLSearchParams({ status: document.getElementById('examples-status').value, limit: '500' })
    const table = document.getElementById('examples-table').value.trim()
    const q = document.getElementById('examples-q').value.trim()
    if (table) query.set('table', table)
    if (q) query.set('q', q)
    line.textContent = t.loading
    try {
      const res = await call('GET', `/v1/admin/examples?${query}`)
      if (mine !== newest) return
      shown = res.examples
      list.replaceChildren(...shown.map((e) => exampleCard(e, { onChanged: load, announce, home: document.getElementById('examples-title') })))
      line.textContent = shown.length ? t.count(shown.length, res.total) : t.none
    } catch (err) {
      line.textContent = t.failed(err.message)
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    load()
  })
  document.getElementById('examples-export').addEventListener('click', () => {
    // The import's own format (question,sql,approved), escaped as the playground's CSV export is.
    const csv = toCsv([{ name: 'question' }, { name: 'sql' }, { name: 'approved' }], shown.map((e) => [e.question, e.sql, e.status === 'approved']))
    const link = el('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })), download: 'examples.csv' })
    document.body.append(link)
    link.click()
    link.remove()
  })
  document.getElementById('examples-import').addEventListener('change', async (e) => {
    const file = e.target.files?.[0]
    if (!file) return
    try {
      const res = await call('POST', '/v1/admin/examples?refresh=true', { text: await file.text(), contentType: 'text/csv' })
      announce(t.imported(res))
    } catch (err) {
      announce(t.failed(err.message), true)
    }
    e.target.value = ''
    await load()
  })
  return load
}
