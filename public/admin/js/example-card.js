// One stored example as a card: its question, SQL (editable, with Postgres's verdict as you type),
// who sent and changed it, its counters, and the actions its status allows. Every action is one
// admin API call; `onChanged` lets the list reload after it.
import { call } from './admin-api.js'
import { t } from './admin-text.js'
import { debounce, el, table, when } from './dom.js'

/** The preview's cap, as POST /v1/admin/sql applies it (ADMIN_PREVIEW_ROWS). */
const PREVIEW_ROWS = 20
/** Typing pauses this long before the SQL goes to the check: one check per pause, not per key. */
const CHECK_DELAY_MS = 400

export function exampleCard(example, { onChanged, announce, home }) {
  const id = example.id
  const sqlId = `sql-${id}`
  const verdictId = `verdict-${id}`
  const textarea = el('textarea', { id: sqlId, class: 'code', rows: Math.min(8, example.sql.split('\n').length + 1), spellcheck: 'false', 'aria-describedby': verdictId })
  textarea.value = example.sql
  const verdict = el('p', { id: verdictId, class: 'verdict', 'aria-live': 'polite' })
  showVerdict(verdict, example.check)
  const preview = el('div', { class: 'preview' })
  const reason = el('input', { type: 'text', id: `reason-${id}`, class: 'reason' })
  const selector = el('input', { type: 'checkbox', class: 'select', 'data-id': id, 'aria-label': t.select(example.question) })

  // The newest typing wins: an older check that returns late is dropped.
  let latest = 0
  const check = debounce(async () => {
    const mine = ++latest
    verdict.textContent = t.checking
    verdict.dataset.state = 'checking'
    try {
      const res = await call('POST', '/v1/admin/sql', { json: { sql: textarea.value } })
      if (mine === latest) showVerdict(verdict, res.check)
    } catch (err) {
      if (mine === latest) showVerdict(verdict, { ok: false, error: err.message })
    }
  }, CHECK_DELAY_MS)
  textarea.addEventListener('input', check)

  const act = (label, work) => async () => {
    try {
      await work()
      announce(t.done(label))
      await onChanged()
      // The card (and the focused button) may be gone: the keyboard goes on from the section's heading, not from the page's top.
      if (!document.activeElement || document.activeElement === document.body) home?.focus()
    } catch (err) {
      announce(t.failed(err.message), true)
    }
  }
  const buttons = [
    el('button', { type: 'button', class: 'button', onclick: () => previewRows(textarea.value, preview) }, t.previewRows),
    el('button', { type: 'button', class: 'button', onclick: act(t.saveEdit, () => call('PATCH', `/v1/admin/examples/${id}?refresh=true`, { json: { sql: textarea.value } })) }, t.saveEdit),
    example.status === 'approved'
      ? el('button', { type: 'button', class: 'button', onclick: act(t.unapprove, () => call('POST', `/v1/admin/examples/${id}/unapprove?refresh=true`)) }, t.unapprove)
      : el('button', { type: 'button', class: 'button primary', onclick: act(t.approve, () => approve(id, textarea.value, example.sql)) }, t.approve),
    example.status !== 'rejected' ? el('label', { for: reason.id, class: 'visually-hidden' }, t.rejectReason) : null,
    example.status !== 'rejected' ? reason : null,
    example.status !== 'rejected' ? el('button', { type: 'button', class: 'button', onclick: act(t.reject, () => call('POST', `/v1/admin/examples/${id}/reject?refresh=true`, { json: { reason: reason.value } })) }, t.reject) : null,
    el('button', { type: 'button', class: 'button danger', onclick: act(t.delete, () => call('DELETE', `/v1/admin/examples/${id}?refresh=true`)) }, t.delete),
  ]
  return el(
    'article',
    { class: 'card', 'data-id': id, 'data-status': example.status },
    el('div', { class: 'card-head' }, selector, el('h3', {}, example.question)),
    el(
      'dl',
      { class: 'facts' },
      fact(t.status, t[`status${example.status[0].toUpperCase()}${example.status.slice(1)}`] ?? example.status),
      fact(t.source, example.source),
      fact(t.sentBy, example.sent_by ?? '—'),
      fact(t.sentAt, when(example.created_at)),
      example.approved_by ? fact(t.statusApproved, t.approvedBy(example.approved_by, when(example.approved_at))) : null,
      example.rejected_by ? fact(t.statusRejected, t.rejectedBy(example.rejected_by, example.rejected_reason)) : null,
      example.updated_by ? fact('✎', t.updatedBy(example.updated_by)) : null,
      fact('#', t.counters(example.prompted ?? 0, example.verified ?? 0)),
    ),
    sqlBlock(example, sqlId, textarea, verdict),
    el('div', { class: 'actions' }, buttons),
    preview,
  )
}

/**
 * The example's SQL with its verdict; beside it, when the SQL corrects the model's (a `wrong`
 * feedback with the right SQL), the model's SQL, so the reviewer compares the two side by side.
 */
function sqlBlock(example, sqlId, textarea, verdict) {
  if (!example.model_sql) return [el('label', { for: sqlId }, t.sql), textarea, verdict]
  return el(
    'div',
    { class: 'side-by-side sql-compare' },
    el('div', { class: 'sql-side model-side' }, el('p', { class: 'side-label' }, t.modelSql), el('pre', { class: 'code model-sql' }, example.model_sql)),
    el('div', { class: 'sql-side corrected-side' }, el('label', { for: sqlId, class: 'side-label' }, t.correctedSql), textarea, verdict),
  )
}

/** An edited SQL is saved (and so re-checked) before it is approved. */
async function approve(id, sql, stored) {
  if (sql !== stored) await call('PATCH', `/v1/admin/examples/${id}`, { json: { sql } })
  return call('POST', `/v1/admin/examples/${id}/approve?refresh=true`)
}

async function previewRows(sql, box) {
  box.replaceChildren(el('p', { class: 'status' }, t.loading))
  try {
    const res = await call('POST', '/v1/admin/sql', { json: { sql, execute: true } })
    if (!res.check.ok) return box.replaceChildren(el('p', { class: 'bad' }, t.verdictFailed(res.check.error)))
    if (!res.result?.ok) return box.replaceChildren(el('p', { class: 'bad' }, t.failed(res.result?.error ?? '')))
    box.replaceChildren(table(`${t.previewRows} (${t.previewNote(PREVIEW_ROWS)})`, res.columns.map((c) => c.name), res.rows))
  } catch (err) {
    box.replaceChildren(el('p', { class: 'bad' }, t.failed(err.message)))
  }
}

function showVerdict(node, check) {
  node.dataset.state = !check ? 'unknown' : check.ok ? 'ok' : 'bad'
  node.textContent = `${t.verdict}: ${!check ? t.verdictUnknown : check.ok ? t.verdictOk : t.verdictFailed(check.error)}`
}

function fact(name, value) {
  return el('div', {}, el('dt', {}, name), el('dd', {}, value))
}
