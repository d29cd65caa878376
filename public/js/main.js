// The playground: ask, watch the answer stream in, see the checked SQL and its rows, give
// feedback, follow up. A question is never thrown away: too long, refused, failed or stopped, it
// stays in (or goes back to) the question box.
import { ApiError, askStream, getHealth, readApiKey, readBearer, readToken, saveApiKey, saveToken } from './api.js'
import { renderFeedback } from './feedback-view.js'
import { createFollower } from './follow-scroll.js'
import { numberLocale, t, translatePage } from './i18n.js'
import { createTurn, turnView } from './turn-view.js'
import { showBasis } from './basis-view.js'

/** The service accepts at most MAX_HISTORY_TURNS (default 10) history entries; keep whole pairs. */
const MAX_HISTORY = 10
/** History content is limited to 4 × MAX_QUESTION_CHARS (default 8000): a long answer goes as its SQL. */
const MAX_HISTORY_CONTENT = 6000
/** How often the header re-reads /healthz while the page is in view. */
const HEALTH_EVERY_MS = 60_000
/** Stop takes Send's place: a click on it this soon is the second half of a double-click (or tap) on Send. */
const STOP_GRACE_MS = 150

const $ = (id) => document.getElementById(id)
const form = $('composer')
const question = $('question')
const lengthNote = $('question-length')
const sendButton = $('send')
const stopButton = $('stop')
const conversation = $('conversation')
const executeOption = $('execute-option')
const executeBox = $('execute')
const keyDialog = $('key-dialog')
const keyButton = $('key-button')
const service = $('service')

const state = {
  /** @type {{role: 'user'|'assistant', content: string}[]} */
  history: [],
  /** @type {AbortController | null} */
  controller: null,
  busySince: 0,
  /** Re-asked once a key is saved after a 401. */
  pendingRetry: null,
  /** /healthz as last read; null when it could not be. */
  health: null,
  /** The service's default MAX_QUESTION_CHARS; a service set lower says so when it refuses one. */
  maxQuestionChars: 2000,
}
const follower = createFollower($('scroller'))
const count = (n) => n.toLocaleString(numberLocale)

translatePage()
if (readBearer()) keyButton.hidden = false
loadHealth()
setInterval(() => document.visibilityState === 'visible' && loadHealth(), HEALTH_EVERY_MS)
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && loadHealth())
addEventListener('online', () => loadHealth())

for (const chip of document.querySelectorAll('.chip')) chip.addEventListener('click', () => state.controller || ask(chip.textContent))
form.addEventListener('submit', (e) => {
  e.preventDefault()
  const text = question.value.trim()
  if (!text || state.controller) return
  if (text.length > state.maxQuestionChars) return refuseTooLong(text.length)
  // Send is about to give way to Stop: the question box keeps the focus.
  if (document.activeElement === sendButton) question.focus({ preventScroll: true })
  ask(text)
})
question.addEventListener('input', showLength)
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
stopButton.addEventListener('click', (e) => {
  if (e.detail > 1 || performance.now() - state.busySince < STOP_GRACE_MS) return
  state.controller?.abort()
})
$('new-conversation').addEventListener('click', () => {
  state.controller?.abort()
  state.history = []
  for (const turn of conversation.querySelectorAll('.turn')) turn.remove()
  $('empty').hidden = false
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
  else if (!focusIsUsable()) question.focus()
})

/** The length against the limit, once a question nears it. */
function showLength() {
  const n = question.value.trim().length
  const max = state.maxQuestionChars
  lengthNote.textContent = n >= max * 0.8 ? t.length(count(n), count(max)) : ''
  lengthNote.classList.toggle('over', n > max)
  if (n > max) question.setAttribute('aria-invalid', 'true')
  else question.removeAttribute('aria-invalid')
}

function refuseTooLong(n) {
  showLength()
  lengthNote.textContent = t.tooLong(count(n), count(state.maxQuestionChars))
  announce(lengthNote.textContent)
  question.focus()
}

function announce(message) {
  $('announcer').textContent = message
}

/** Focus on something a keyboard user can go on from: not <body>, not a control that went away. */
function focusIsUsable() {
  const el = document.activeElement
  return Boolean(el && el !== document.body && el.isConnected && !el.closest('[hidden]') && !el.disabled)
}

async function loadHealth() {
  const wasUp = state.health?.ok === true
  try {
    const health = await getHealth()
    state.health = health
    service.textContent = `${t.modelLabel}: ${health.model}${health.schema_version ? ` · ${t.schemaLabel}: ${health.schema_version}` : ''}`
    service.classList.toggle('down', !health.ok)
    if (!health.ok) service.textContent = `${t.serviceDown} · ${service.textContent}`
    executeOption.hidden = health.execute !== true
  } catch (err) {
    state.health = null
    service.textContent = `${t.serviceDown} (${err.code ?? 'network_error'})`
    service.classList.add('down')
  }
  if (wasUp && state.health?.ok !== true) announce(service.textContent)
}

function openKeyDialog(retry = null, refusal = null) {
  state.pendingRetry = retry
  // Esc closes without a button: the previous close's value must not count as this one's.
  keyDialog.returnValue = ''
  const input = $('key-input')
  const tokenInput = $('token-input')
  const error = $('key-error')
  input.value = readApiKey()
  tokenInput.value = readToken()
  // What was sent (the token when there is one) was refused: say so here, where it is, not only on
  // the page behind.
  const sent = tokenInput.value ? tokenInput : input
  const refused = Boolean(refusal && sent.value)
  error.hidden = !refused
  error.textContent = refused ? t.keyRejected(`${t.errors[refusal.code] ?? ''} ${refusal.message}`.trim()) : ''
  for (const el of [input, tokenInput]) {
    if (refused && el === sent) el.setAttribute('aria-invalid', 'true')
    else el.removeAttribute('aria-invalid')
  }
  keyDialog.showModal()
  sent.focus()
  if (refused) sent.select()
}

function setBusy(controller) {
  state.controller = controller
  state.busySince = performance.now()
  sendButton.hidden = controller !== null
  stopButton.hidden = controller === null
}

/** A refusal that a second try can get past: the network, a busy or unready service. */
const retryable = (err) => err.status === 0 || err.status === 429 || err.status >= 500

async function ask(text, turn = null) {
  if (!turn) {
    turn = createTurn(text)
    $('empty').hidden = true
    conversation.append(turn)
  }
  const controller = new AbortController()
  setBusy(controller)
  if (question.value.trim() === text) {
    question.value = ''
    showLength()
  }
  const view = turnView(turn)
  view.reset()
  showBasis(turn, null)
  follower.start(turn)
  // A chip or Retry that was clicked is gone: the question's heading takes the focus (it does not
  // open a phone's keyboard as the question box would).
  if (!focusIsUsable()) turn.querySelector('.question-text').focus({ preventScroll: true })
  const history = state.history.slice()
  const execute = !executeOption.hidden && executeBox.checked
  const started = performance.now()
  const answer = { requestId: null, text: '', sql: null, sqlSeen: false, verdict: '', rows: null, error: null, done: null, approxTokens: 0 }
  const tick = setInterval(() => view.elapsed(performance.now() - started, null), 100)
  const retry = () => state.controller || ask(text, turn)
  let outcome = 'done'
  view.state('streaming', t.streaming)
  try {
    // With the rows, the answer in words (one more call on the service): shown above the table.
    await askStream({ question: text, ...(history.length ? { history } : {}), ...(execute ? { execute: true, summarize: true } : {}) }, {
      signal: controller.signal,
      onEvent: (event, data) => {
        switch (event) {
          case 'meta':
            answer.requestId = data.request_id
            view.model(data.model)
            showBasis(turn, data)
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
            answer.verdict = t.cannotAnswer
            break
          case 'sql':
            answer.sqlSeen = true
            answer.sql = data.sql
            answer.verdict = view.sql(data)
            // Runs are off on this service: say why where the rows would be, instead of nothing.
            if (data.sql !== null && data.ok && executeOption.hidden && state.health?.execute_reason) view.noRun(state.health.execute_reason)
            break
          case 'rows':
            view.rows(data)
            break
          case 'result':
            answer.rows = data.ok ? (data.row_count ?? null) : null
            // A result that only says why nothing ran (check refused, no SQL, cannot answer…) adds
            // nothing to what the answer above already shows.
            if (data.ok || data.code === 'query_failed' || data.code === 'execution_refused') view.result(data, answer.requestId)
            break
          case 'summary':
            view.summary(data)
            break
          case 'usage':
            view.usage(data)
            break
          case 'error':
            answer.error = data
            view.error(new ApiError(data.code, data.message, { requestId: answer.requestId }), { retry: data.retryable ? retry : undefined })
            break
          case 'done':
            answer.done = data
            break
        }
        if (event !== 'usage') view.approxTokens(answer.approxTokens)
      },
    })
    if (answer.error) outcome = 'failed'
  } catch (err) {
    if (err?.name === 'AbortError') outcome = 'stopped'
    else {
      outcome = 'failed'
      let apiError = err instanceof ApiError ? err : new ApiError('bad_response', String(err?.message ?? err))
      apiError.requestId ??= answer.requestId
      const limit = /"question" must be at most (\d+) characters/.exec(apiError.message)
      if (apiError.code === 'invalid_request' && limit) {
        state.maxQuestionChars = Number(limit[1])
        apiError = new ApiError(apiError.code, t.tooLong(count(text.length), count(state.maxQuestionChars)), apiError)
      }
      const unauthorized = apiError.code === 'unauthorized'
      view.error(apiError, { retry: retryable(apiError) ? retry : undefined, enterKey: unauthorized ? () => openKeyDialog(retry, apiError) : undefined })
      if (unauthorized) {
        keyButton.hidden = false
        keyButton.dataset.needed = 'true'
        openKeyDialog(retry, apiError)
      }
    }
  } finally {
    clearInterval(tick)
    view.finish()
    view.elapsed(performance.now() - started, answer.done)
    view.state(outcome, t[outcome])
    if (state.controller === controller) setBusy(null)
  }
  if (outcome === 'done') {
    remember(text, answer)
    if (answer.requestId && answer.sqlSeen) renderFeedback(turn.querySelector('.feedback'), answer)
    announce(t.answered([answer.verdict, answer.rows !== null && t.rowsCount(answer.rows)].filter(Boolean)))
  } else {
    if (outcome === 'stopped') announce(t.stopped)
    else loadHealth() // did the service go away?
    // No answer: the question goes back into the box, unless something new is being written there.
    if (turn.isConnected && !question.value.trim()) {
      question.value = text
      showLength()
    }
  }
  follower.settle()
  if (!keyDialog.open && !focusIsUsable()) question.focus({ preventScroll: true })
}

/** A finished answer joins the conversation the next question is asked in. */
function remember(text, answer) {
  let content = answer.text.trim()
  if (content.length > MAX_HISTORY_CONTENT) content = answer.sql ? `\`\`\`sql\n${answer.sql}\n\`\`\`` : content.slice(-MAX_HISTORY_CONTENT)
  if (!content) return
  state.history.push({ role: 'user', content: text }, { role: 'assistant', content })
  while (state.history.length > MAX_HISTORY) state.history.splice(0, 2)
}
