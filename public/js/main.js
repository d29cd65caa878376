// The playground: ask, watch the answer stream in, see the checked SQL and its rows, give
// feedback, follow up. Everything from the API is written as text (textContent), never as HTML.
import { ApiError, askStream, getHealth, readApiKey, readBearer, readToken, saveApiKey, saveToken, sendFeedback } from './api.js'
import { createAnswerWriter } from './answer-text.js'
import { translatePage, t } from './i18n.js'
import { clearResult, renderResult } from './result-view.js'
import { renderSql } from './sql-highlight.js'

/** The service accepts at most MAX_HISTORY_TURNS (default 10) history entries; keep whole pairs. */
const MAX_HISTORY = 10
/** History content is limited to 4 × MAX_QUESTION_CHARS (default 8000): a long answer goes as its SQL. */
const MAX_HISTORY_CONTENT = 6000

const $ = (id) => document.getElementById(id)
const form = $('composer')
const question = $('question')
const sendButton = $('send')
const stopButton = $('stop')
const conversation = $('conversation')
const executeOption = $('execute-option')
const executeBox = $('execute')
const keyDialog = $('key-dialog')
const keyButton = $('key-button')

const state = {
  /** @type {{role: 'user'|'assistant', content: string}[]} */
  history: [],
  /** @type {AbortController | null} */
  controller: null,
  /** Re-asked once a key is saved after a 401. */
  pendingRetry: null,
}

translatePage()
renderExamples()
if (readBearer()) keyButton.hidden = false
loadHealth()

form.addEventListener('submit', (e) => {
  e.preventDefault()
  const text = question.value.trim()
  if (text && !state.controller) ask(text)
})
question.addEventListener('keydown', (e) => {
  // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition does neither.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault()
    form.requestSubmit()
  }
})
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && state.controller && !keyDialog.open) state.controller.abort()
})
stopButton.addEventListener('click', () => state.controller?.abort())
$('new-conversation').addEventListener('click', () => {
  state.controller?.abort()
  state.history = []
  conversation.replaceChildren($('empty') ?? emptyState())
  $('empty').hidden = false
  question.value = ''
  question.focus()
})
keyButton.addEventListener('click', () => openKeyDialog())
keyDialog.addEventListener('close', () => {
  const action = keyDialog.returnValue
  if (action === 'save') {
    saveApiKey($('key-input').value.trim())
    saveToken($('token-input').value.trim())
  }
  if (action === 'clear') {
    saveApiKey('')
    saveToken('')
  }
  keyButton.hidden = !readBearer() && keyButton.dataset.needed !== 'true'
  const retry = state.pendingRetry
  state.pendingRetry = null
  if (action === 'save' && readBearer() && retry) retry()
  else question.focus()
})

function emptyState() {
  const p = document.createElement('p')
  p.id = 'empty'
  p.className = 'empty'
  p.textContent = t.emptyState
  return p
}

function renderExamples() {
  const list = $('examples')
  for (const text of t.examplesList) {
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'chip'
    b.textContent = text
    b.addEventListener('click', () => {
      if (state.controller) return
      question.value = text
      ask(text)
    })
    list.append(b)
  }
}

async function loadHealth() {
  const service = $('service')
  try {
    const health = await getHealth()
    service.textContent = `${t.modelLabel}: ${health.model}${health.schema_version ? ` · ${t.schemaLabel}: ${health.schema_version}` : ''}`
    service.classList.toggle('down', !health.ok)
    if (!health.ok) service.textContent = `${t.serviceDown} · ${service.textContent}`
    executeOption.hidden = health.execute !== true
  } catch (err) {
    service.textContent = `${t.serviceDown} (${err.code ?? 'network_error'})`
    service.classList.add('down')
  }
}

function openKeyDialog(retry = null) {
  state.pendingRetry = retry
  // Esc closes without a button: the previous close's value must not count as this one's.
  keyDialog.returnValue = ''
  $('key-input').value = readApiKey()
  $('token-input').value = readToken()
  keyDialog.showModal()
  $('key-input').focus()
}

function setBusy(controller) {
  state.controller = controller
  sendButton.hidden = controller !== null
  stopButton.hidden = controller === null
  if (controller) stopButton.focus({ preventScroll: true })
}

/** Keeps the newest content in view while the reader is at the bottom already. */
function follow(node) {
  const nearBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 160
  if (nearBottom) node.scrollIntoView({ block: 'end' })
}

async function ask(text, turn = createTurn(text)) {
  const controller = new AbortController()
  setBusy(controller)
  question.value = ''
  const view = turnView(turn)
  view.reset()
  const history = state.history.slice()
  const execute = !executeOption.hidden && executeBox.checked
  const started = performance.now()
  const answer = { requestId: null, text: '', sql: null, sqlSeen: false, error: null, done: null, approxTokens: 0 }
  const tick = setInterval(() => view.elapsed(performance.now() - started, null), 100)
  view.state('streaming', t.streaming)
  try {
    await askStream({ question: text, ...(history.length ? { history } : {}), ...(execute ? { execute: true } : {}) }, {
      signal: controller.signal,
      onEvent: (event, data) => {
        switch (event) {
          case 'meta':
            answer.requestId = data.request_id
            view.model(data.model)
            break
          case 'reasoning':
            answer.approxTokens++
            view.reasoning(data.text)
            break
          case 'delta':
            answer.approxTokens++
            answer.text += data.text
            view.delta(data.text)
            break
          case 'repair':
            answer.text = ''
            view.repair(data)
            break
          case 'unanswerable':
            view.unanswerable(data)
            break
          case 'sql':
            answer.sqlSeen = true
            answer.sql = data.sql
            view.sql(data)
            break
          case 'rows':
            view.rows(data)
            break
          case 'result':
            // A result that only says why nothing ran (check refused, no SQL, cannot answer…) adds
            // nothing to what the answer above already shows.
            if (data.ok || data.code === 'query_failed' || data.code === 'execution_refused') view.result(data, answer.requestId)
            break
          case 'usage':
            view.usage(data)
            break
          case 'error':
            answer.error = data
            view.error(new ApiError(data.code, data.message, { requestId: answer.requestId }), { retry: () => ask(text, turn) })
            break
          case 'done':
            answer.done = data
            break
        }
        if (event !== 'usage') view.approxTokens(answer.approxTokens)
        follow(turn)
      },
    })
    if (answer.error) view.state('failed', t.failed)
    else {
      view.state('done', t.done)
      remember(text, answer)
    }
    if (answer.requestId && answer.sqlSeen && !answer.error) view.feedback(answer)
  } catch (err) {
    if (err?.name === 'AbortError') view.state('stopped', t.stopped)
    else {
      const apiError = err instanceof ApiError ? err : new ApiError('bad_response', String(err?.message ?? err))
      view.state('failed', t.failed)
      const retry = () => ask(text, turn)
      view.error(apiError, { retry })
      if (apiError.code === 'unauthorized') {
        keyButton.hidden = false
        keyButton.dataset.needed = 'true'
        openKeyDialog(retry)
      }
    }
  } finally {
    clearInterval(tick)
    view.finish()
    view.elapsed(performance.now() - started, answer.done)
    if (state.controller === controller) setBusy(null)
    if (!keyDialog.open) question.focus({ preventScroll: true })
    follow(turn)
  }
}

/** A finished answer joins the conversation the next question is asked in. */
function remember(text, answer) {
  let content = answer.text.trim()
  if (content.length > MAX_HISTORY_CONTENT) content = answer.sql ? `\`\`\`sql\n${answer.sql}\n\`\`\`` : content.slice(-MAX_HISTORY_CONTENT)
  if (!content) return
  state.history.push({ role: 'user', content: text }, { role: 'assistant', content })
  while (state.history.length > MAX_HISTORY) state.history.splice(0, 2)
}

function createTurn(text) {
  $('empty').hidden = true
  const turn = $('turn-template').content.firstElementChild.cloneNode(true)
  turn.querySelector('.who').textContent = t.you
  turn.querySelector('.question-text').textContent = text
  turn.querySelector('.reasoning summary').textContent = t.reasoning
  turn.querySelector('.sql-title').textContent = t.sql
  conversation.append(turn)
  turn.scrollIntoView({ block: 'end' })
  return turn
}

/** Everything that draws into one turn's answer. */
function turnView(turn) {
  const q = (sel) => turn.querySelector(sel)
  const answerText = q('.answer-text')
  const reasoning = q('.reasoning')
  let reasoningText = q('.reasoning-text')
  let writer = createAnswerWriter(answerText)
  let exactTokens = false
  return {
    reset() {
      for (const sel of ['.reasoning', '.error', '.sql-block', '.result', '.feedback']) q(sel).hidden = true
      answerText.replaceChildren()
      writer = createAnswerWriter(answerText)
      for (const extra of turn.querySelectorAll('.repair-reasoning')) extra.remove()
      reasoningText = q('.reasoning-text')
      reasoningText.replaceChildren()
      clearResult(q('.result'))
      q('.feedback').replaceChildren()
      q('.tokens').textContent = ''
      exactTokens = false
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
    },
    repair(data) {
      // The refusal sits where it happened: after the first attempt, before the second one,
      // which streams below a divider (its reasoning, if any, likewise).
      const box = document.createElement('div')
      box.className = 'repair'
      const head = document.createElement('p')
      head.className = 'repair-head'
      head.textContent = t.repairRound
      const err = document.createElement('p')
      err.className = 'pg-error'
      err.textContent = data.error + (data.position ? ` (${t.atPosition(data.position)})` : '')
      const label = document.createElement('p')
      label.className = 'repair-label'
      label.textContent = t.repairFirst
      const pre = document.createElement('pre')
      pre.className = 'sql refused'
      const code = document.createElement('code')
      renderSql(code, data.sql ?? '', data.position)
      pre.append(code)
      box.append(head, err, label, pre)
      const divider = document.createElement('hr')
      divider.className = 'attempt-divider'
      divider.dataset.label = t.repaired
      writer.finish()
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
    sql(data) {
      writer.finish()
      const block = q('.sql-block')
      const check = q('.check')
      const detail = q('.check-detail')
      block.hidden = false
      detail.textContent = ''
      if (data.sql === null) {
        check.className = 'check none'
        check.textContent = t.noSql
        q('.sql-block pre.sql').hidden = true
        q('.copy').hidden = true
        if (data.error) detail.textContent = data.error
        return
      }
      q('.sql-block pre.sql').hidden = false
      q('.copy').hidden = false
      renderSql(q('.sql-block pre.sql code'), data.sql, data.ok ? undefined : data.position)
      const copy = q('.copy')
      copy.textContent = t.copy
      copy.onclick = () => copyText(data.sql, copy)
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
    },
    rows(data) {
      const box = q('.result')
      box.hidden = false
      renderResult(box).addRows(data)
    },
    result(data, requestId) {
      const box = q('.result')
      box.hidden = false
      renderResult(box).finish(data, requestId)
    },
    error(err, { retry } = {}) {
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
      if (err.code === 'unauthorized') {
        const keyBtn = document.createElement('button')
        keyBtn.type = 'button'
        keyBtn.className = 'button small'
        keyBtn.textContent = t.enterKey
        keyBtn.addEventListener('click', () => openKeyDialog(retry))
        buttons.append(keyBtn)
      }
      if (retry) {
        const again = document.createElement('button')
        again.type = 'button'
        again.className = 'button small'
        again.textContent = t.retry
        again.addEventListener('click', () => !state.controller && retry())
        buttons.append(again)
      }
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
    feedback(answer) {
      renderFeedback(q('.feedback'), answer)
    },
  }
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = t.copied
  } catch {
    button.textContent = t.copyFailed
  }
  setTimeout(() => (button.textContent = t.copy), 1500)
}

function renderFeedback(box, answer) {
  box.hidden = false
  const prompt = document.createElement('span')
  prompt.className = 'feedback-question'
  prompt.textContent = t.feedbackQuestion
  const good = button(t.correct, 'good')
  const bad = button(t.wrong, 'bad')
  const status = document.createElement('p')
  status.className = 'feedback-status'
  status.setAttribute('role', 'status')
  const row = document.createElement('div')
  row.className = 'feedback-row'
  row.append(prompt, good, bad)
  box.replaceChildren(row, status)
  if (answer.sql === null) good.disabled = true

  const submit = async (body) => {
    for (const b of box.querySelectorAll('button, textarea')) b.disabled = true
    status.className = 'feedback-status'
    status.textContent = '…'
    try {
      const res = await sendFeedback({ request_id: answer.requestId, ...body })
      status.textContent = res.body.stored ? t.feedbackStored : t.feedbackNoted
      status.classList.add('ok')
      box.dataset.sent = body.correct ? 'correct' : 'wrong'
    } catch (err) {
      const code = err.code ?? 'network_error'
      status.textContent = `${t.errorTitle(code)}: ${t.errors[code] ? `${t.errors[code]} ` : ''}${err.message}`
      status.classList.add('failed')
      for (const b of box.querySelectorAll('button, textarea')) b.disabled = false
      if (answer.sql === null) good.disabled = true
    }
  }
  good.addEventListener('click', () => submit({ correct: true }))
  bad.addEventListener('click', () => {
    if (box.querySelector('.corrected')) return
    const wrap = document.createElement('div')
    wrap.className = 'corrected'
    const id = `corrected-${answer.requestId}`
    const label = document.createElement('label')
    label.htmlFor = id
    label.textContent = t.correctedSql
    const area = document.createElement('textarea')
    area.id = id
    area.rows = 4
    area.spellcheck = false
    area.value = answer.sql ?? ''
    const send = button(t.sendFeedback, 'primary')
    const cancel = button(t.cancel)
    send.addEventListener('click', () => {
      const sql = area.value.trim()
      submit({ correct: false, ...(sql && sql !== answer.sql ? { sql } : {}) })
    })
    cancel.addEventListener('click', () => {
      wrap.remove()
      bad.focus()
    })
    const buttons = document.createElement('div')
    buttons.className = 'dialog-buttons'
    buttons.append(send, cancel)
    wrap.append(label, area, buttons)
    status.before(wrap)
    area.focus()
  })
}

function button(text, kind = '') {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = `button small ${kind}`.trim()
  b.textContent = text
  return b
}
