// One turn of the conversation — the question and everything drawn into its answer as the events
// arrive. Everything from the API is written as text (textContent), never as HTML. Shared by the
// playground and <txt2sql-chat>: it draws only inside the turn it is given, with the texts and
// client it is given (`ctx`), and keeps nothing outside the view it returns.
import { createAnswerWriter, foldSqlBlock } from './answer-text.js'
import { showBasis } from './basis-view.js'
import { h } from './dom.js'
import { createResultView, explainNoRun } from './result-view.js'
import { renderSql } from './sql-highlight.js'

/**
 * A new turn for `text`, not yet in any document (the caller places it): the question, then the
 * answer's parts, each filled (and shown) as its events arrive. Built here, not from a template
 * of the page, so that a view inside a host page's shadow root has it too.
 * @param {string} text @param {{t: object}} ctx
 */
export function createTurn(text, { t }) {
  return h('article.turn', {},
    h('div.question-bubble', {}, h('span.who', {}, t.you), h('h2.question-text', { tabIndex: -1 }, text)),
    h('section.answer', {},
      h('div.status-line', {}, h('span.state'), h('span.elapsed'), h('span.tokens'), h('span.model')),
      h('details.reasoning', { hidden: true }, h('summary', {}, t.reasoning), h('div.reasoning-text')),
      h('div.answer-text'),
      h('div.error', { role: 'alert', hidden: true }),
      h('div.sql-block', { hidden: true },
        h('div.sql-head', {}, h('h3.sql-title', {}, t.sql), h('span.check'), h('button.button.small.copy', { type: 'button' })),
        h('pre.sql', { tabIndex: 0 }, h('code')),
        h('p.check-detail')),
      h('section.summary', { hidden: true }, h('h3.summary-title'), h('p.summary-text')),
      h('div.result', { hidden: true }),
      h('div.feedback', { hidden: true })))
}

/**
 * Everything that draws into one turn's answer.
 * @param {HTMLElement} turn from createTurn
 * @param {{t: object, numberLocale: string}} ctx the texts and number locale of this view
 */
export function turnView(turn, ctx) {
  const { t } = ctx
  const q = (sel) => turn.querySelector(sel)
  const answerText = q('.answer-text')
  const reasoning = q('.reasoning')
  let reasoningText = q('.reasoning-text')
  let writer = createAnswerWriter(answerText)
  let exactTokens = false
  /** The rows' table and chart, from the first rows event on. */
  let result = null
  const resultView = () => (result ??= createResultView(q('.result'), ctx))
  /** The repair notice while the second attempt is written; it says so once that attempt is in. */
  let repairHead = null
  const settleRepair = () => {
    if (repairHead) repairHead.textContent = t.repairDone
    repairHead = null
  }
  return {
    reset() {
      for (const sel of ['.reasoning', '.error', '.sql-block', '.summary', '.result', '.feedback']) q(sel).hidden = true
      q('.summary-text').textContent = ''
      answerText.replaceChildren()
      writer = createAnswerWriter(answerText)
      for (const extra of turn.querySelectorAll('.repair-reasoning')) extra.remove()
      reasoningText = q('.reasoning-text')
      reasoningText.replaceChildren()
      result?.close()
      result = null
      q('.result').replaceChildren()
      q('.feedback').replaceChildren()
      q('.tokens').textContent = ''
      exactTokens = false
      repairHead = null
      showBasis(turn, null, t)
    },
    state(kind, label) {
      const el = q('.state')
      el.className = `state ${kind}`
      el.textContent = label
      turn.dataset.state = kind
      // Reasoning folds away once the answer is complete; it stays one click from view.
      if (kind !== 'streaming' && !reasoning.hidden) reasoning.open = false
    },
    elapsed(ms, done) {
      let text = `${t.elapsed} ${(ms / 1000).toFixed(1)} s`
      if (done?.ttft_ms != null) text += ` · ${t.ttft} ${done.ttft_ms} ms`
      q('.elapsed').textContent = text
    },
    model(name) {
      q('.model').textContent = name
    },
    /** What the answer was built from (its `meta`): the verified or cached mark and the folded 依据. */
    basis(meta) {
      showBasis(turn, meta, t)
    },
    approxTokens(n) {
      if (!exactTokens && n > 0) q('.tokens').textContent = `≈${n} ${t.tokens}`
    },
    usage(u) {
      exactTokens = true
      const el = q('.tokens')
      el.textContent = `${u.total_tokens} ${t.tokens}`
      el.title = t.tokensDetail(u)
    },
    reasoning(text) {
      if (reasoning.hidden) {
        reasoning.hidden = false
        reasoning.open = true
      }
      reasoningText.append(text)
    },
    delta(text) {
      writer.append(text)
    },
    /** The stream ended (or stopped): show any text held back for a possible fence. */
    finish() {
      writer.finish()
      settleRepair()
    },
    repair(data) {
      // The refusal sits where it happened: after the first attempt, before the second one,
      // which streams below a divider (its reasoning, if any, likewise).
      const box = document.createElement('div')
      box.className = 'repair'
      const head = document.createElement('p')
      head.className = 'repair-head'
      head.textContent = t.repairRound
      repairHead = head
      const err = document.createElement('p')
      err.className = 'pg-error'
      err.textContent = data.error + (data.position ? ` (${t.atPosition(data.position)})` : '')
      const label = document.createElement('p')
      label.className = 'repair-label'
      label.textContent = t.repairFirst
      const pre = document.createElement('pre')
      pre.className = 'sql refused'
      pre.tabIndex = 0 // scrollable sideways by keyboard
      const code = document.createElement('code')
      renderSql(code, data.sql ?? '', data.position)
      pre.append(code)
      box.append(head, err, label, pre)
      const divider = document.createElement('hr')
      divider.className = 'attempt-divider'
      divider.dataset.label = t.repaired
      writer.finish()
      foldSqlBlock(answerText, data.sql ?? '', t.refusedSqlBelow, pre)
      answerText.append(box, divider)
      writer = createAnswerWriter(answerText)
      const second = document.createElement('div')
      second.className = 'repair-reasoning'
      reasoningText.after(second)
      reasoningText = second
    },
    /** Instead of SQL: the service or the model says the schema cannot answer the question. */
    unanswerable(data) {
      writer.finish()
      q('.sql-block').hidden = false
      q('.sql-block pre.sql').hidden = true
      q('.copy').hidden = true
      const check = q('.check')
      check.className = 'check none'
      check.textContent = t.cannotAnswer
      const detail = q('.check-detail')
      detail.className = 'check-detail'
      detail.textContent = data.reason + (data.closest_tables.length ? ` — ${t.closestTables(data.closest_tables.join(', '))}` : '')
    },
    /** @returns {string} the verdict, in words (for the announcement at the end) */
    sql(data) {
      writer.finish()
      settleRepair()
      const block = q('.sql-block')
      const check = q('.check')
      const detail = q('.check-detail')
      const pre = q('.sql-block pre.sql')
      block.hidden = false
      detail.textContent = ''
      if (data.sql === null) {
        check.className = 'check none'
        check.textContent = t.noSql
        pre.hidden = true
        q('.copy').hidden = true
        if (data.error) detail.textContent = data.error
        return check.textContent
      }
      pre.hidden = false
      q('.copy').hidden = false
      renderSql(pre.firstElementChild, data.sql, data.ok ? undefined : data.position)
      foldSqlBlock(answerText, data.sql, t.sqlBelow, pre)
      const copy = q('.copy')
      copy.textContent = t.copy
      copy.onclick = () => copyText(data.sql, copy, t)
      if (data.checked && data.ok) {
        check.className = 'check ok'
        check.textContent = t.checked
        if (data.plan_rows !== undefined) detail.textContent = t.checkedDetail(data.plan_rows, data.plan_cost)
      } else if (data.checked && !data.ok) {
        check.className = 'check failed'
        check.textContent = t.checkFailed
        detail.className = 'check-detail pg-error'
        detail.textContent = data.error + (data.position ? ` (${t.atPosition(data.position)})` : '') + (data.pg_code ? ` [${data.pg_code}]` : '')
      } else if (!data.ok) {
        check.className = 'check failed'
        check.textContent = t.checkFailed
        detail.className = 'check-detail pg-error'
        detail.textContent = data.error ?? ''
      } else {
        check.className = 'check unchecked'
        check.textContent = t.unchecked
        detail.textContent = data.check_error ? t.checkSkipped(data.check_error) : t.uncheckedDetail
      }
      if (data.repaired) {
        const badge = document.createElement('span')
        badge.className = 'check repaired'
        badge.textContent = t.repaired
        check.after(badge)
      }
      return check.textContent
    },
    rows(data) {
      const box = q('.result')
      box.hidden = false
      resultView().addRows(data)
    },
    result(data, requestId) {
      const box = q('.result')
      box.hidden = false
      resultView().finish(data, requestId)
    },
    /** The rows in words, as the service writes them; a skipped summary shows nothing (the result says why). */
    summary(data) {
      if (data.skipped || !data.text) return
      const box = q('.summary')
      if (box.hidden) {
        box.hidden = false
        q('.summary-title').textContent = t.summary
      }
      q('.summary-text').append(data.text)
    },
    /** Runs are off on the service: say so where the rows would be. */
    noRun(reason) {
      result?.close()
      result = null
      explainNoRun(q('.result'), reason, ctx)
    },
    /**
     * @param {{code: string, message: string, retryAfter?: string, requestId?: string}} err
     * @param {{retry?: () => void, enterKey?: () => void}} actions the buttons to offer
     */
    error(err, { retry, enterKey } = {}) {
      const box = q('.error')
      box.hidden = false
      const title = document.createElement('p')
      title.className = 'error-title'
      title.textContent = t.errorTitle(err.code)
      const text = document.createElement('p')
      text.className = 'error-message'
      const known = t.errors[err.code]
      text.textContent = known && known !== err.message ? `${known} ${err.message}` : err.message
      if (err.retryAfter) text.textContent += ` ${t.retryAfter(err.retryAfter)}`
      const buttons = document.createElement('div')
      buttons.className = 'error-buttons'
      if (enterKey) buttons.append(smallButton(t.enterKey, enterKey))
      if (retry) buttons.append(smallButton(t.retry, retry))
      box.replaceChildren(title, text)
      // The id an operator finds the request by in the service's log.
      if (err.requestId) {
        const id = document.createElement('p')
        id.className = 'error-id'
        id.textContent = `${t.requestId}: ${err.requestId}`
        box.append(id)
      }
      box.append(buttons)
    },
  }
}

function smallButton(text, onClick) {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'button small'
  b.textContent = text
  b.addEventListener('click', onClick)
  return b
}

async function copyText(text, button, t) {
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = t.copied
  } catch {
    button.textContent = t.copyFailed
  }
  setTimeout(() => (button.textContent = t.copy), 1500)
}
