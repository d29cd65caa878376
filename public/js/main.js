// The playground: ask, watch the answer stream in, see the checked SQL and its rows, give
// feedback, follow up. A question is never thrown away: too long, refused, failed or stopped, it
// stays in (or goes back to) the question box.
import { ApiError, createClient, isRemembered, readApiKey, readBearer, readToken, saveApiKey, saveToken } from './api.js'
import { askTurn, rememberTurn, retryable } from './ask-turn.js'
import { renderFeedback } from './feedback-view.js'
import { createFollower } from './follow-scroll.js'
import { pickLanguage, textFor, translate } from './i18n.js'
import { createTurn, turnView } from './turn-view.js'

/** How many example questions the empty page offers. */
const EXAMPLES = 6
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
// The page's language follows the browser; its bearer is the key or token kept in this browser.
const { lang, t, numberLocale } = textFor(pickLanguage())
const client = createClient({ bearer: readBearer })
/** What the shared views (turn-view.js, feedback-view.js) draw with. */
const ctx = { t, numberLocale, client }
const count = (n) => n.toLocaleString(numberLocale)

document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
document.title = t.title
translate(document, t)
if (readBearer()) keyButton.hidden = false
loadHealth()
loadExamples()
setInterval(() => document.visibilityState === 'visible' && loadHealth(), HEALTH_EVERY_MS)
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && loadHealth())
addEventListener('online', () => loadHealth())

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
    const remember = $('remember-input').checked
    saveApiKey($('key-input').value.trim(), remember)
    saveToken($('token-input').value.trim(), remember)
  }
  if (action === 'clear') {
    saveApiKey('')
    saveToken('')
  }
  keyButton.hidden = !readBearer() && keyButton.dataset.needed !== 'true'
  const retry = state.pendingRetry
  state.pendingRetry = null
  if (action === 'save' || action === 'clear') loadExamples()
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
    const health = await client.getHealth()
    state.health = health
    service.textContent = `${t.modelLabel}: ${health.model}${health.schema_version ? ` · ${t.schemaLabel}: ${health.schema_version}` : ''}`
    service.classList.toggle('down', !health.ok)
    if (!health.ok) service.textContent = `${t.serviceDown} · ${service.textContent}`
    executeOption.hidden = health.execute !== true
    showTitle(health.page_title)
  } catch (err) {
    state.health = null
    service.textContent = `${t.serviceDown} (${err.code ?? 'network_error'})`
    service.classList.add('down')
  }
  if (wasUp && state.health?.ok !== true) announce(service.textContent)
}

/** PAGE_TITLE, when the operator set one: their words for their data, in the tab and the heading. */
function showTitle(title) {
  document.title = title || t.title
  $('title').textContent = title || t.title
}

/** The approved examples this caller may ask, as buttons (none: no buttons); asked again after a key is entered. */
async function loadExamples() {
  const box = $('examples')
  const questions = await client.getExampleQuestions(EXAMPLES).catch(() => [])
  for (const chip of box.querySelectorAll('.chip')) chip.remove()
  for (const text of questions) {
    const chip = document.createElement('button')
    chip.type = 'button'
    chip.className = 'chip'
    chip.textContent = text
    chip.addEventListener('click', () => state.controller || ask(text))
    box.append(chip)
  }
  box.hidden = questions.length === 0
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
  $('remember-input').checked = isRemembered()
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

async function ask(text, turn = null) {
  if (!turn) {
    turn = createTurn(text, ctx)
    $('empty').hidden = true
    conversation.append(turn)
  }
  const controller = new AbortController()
  setBusy(controller)
  if (question.value.trim() === text) {
    question.value = ''
    showLength()
  }
  const view = turnView(turn, ctx)
  view.reset()
  follower.start(turn)
  // A chip or Retry that was clicked is gone: the question's heading takes the focus (it does not
  // open a phone's keyboard as the question box would).
  if (!focusIsUsable()) turn.querySelector('.question-text').focus({ preventScroll: true })
  const history = state.history.slice()
  const execute = !executeOption.hidden && executeBox.checked
  const retry = () => state.controller || ask(text, turn)
  const { outcome, answer } = await askTurn({
    client,
    view,
    t,
    // With the rows, the answer in words (one more call on the service): shown above the table.
    body: { question: text, ...(history.length ? { history } : {}), ...(execute ? { execute: true, summarize: true } : {}) },
    signal: controller.signal,
    health: state.health,
    runsOff: executeOption.hidden,
    retry,
    onFailure: (err) => {
      let apiError = err
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
    },
  })
  if (state.controller === controller) setBusy(null)
  if (outcome === 'done') {
    rememberTurn(state.history, text, answer)
    if (answer.requestId && answer.sqlSeen) renderFeedback(turn.querySelector('.feedback'), answer, ctx)
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
