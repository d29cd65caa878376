// <txt2sql-chat>: the assistant inside a host page (docs/EMBED.md). One custom element, nothing
// else global: an open shadow root holds the same answer view as the playground (turn-view.js and
// the modules under it), styled by constructable stylesheets (a host CSP without style-src for the
// service still renders it) that the host's CSS cannot reach, inherited properties included.
// Each element keeps its own service, language, bearer and conversation: two on a page are two.
// Built by scripts/build-assets.mjs into /embed.js (one classic script: `<script src defer>`).
import pageCss from '../app.css'
import embedCss from '../embed.css'
import { ApiError, createClient } from './api.js'
import { askTurn, rememberTurn, retryable } from './ask-turn.js'
import { h } from './dom.js'
import { renderFeedback } from './feedback-view.js'
import { createFollower } from './follow-scroll.js'
import { pickLanguage, textFor } from './i18n.js'
import { createTurn, turnView } from './turn-view.js'

/** Where this script came from: the service, unless the element's `service` attribute says otherwise. */
const SCRIPT_ORIGIN = originOf(document.currentScript?.src) ?? location.origin
/** How many example questions the empty conversation offers. */
const EXAMPLES = 6
/** The font size the element's text is set in (the page's 1rem when its root is left at the default). */
const ROOT_PX = 16
/** Stop takes Send's place: a click on it this soon is the second half of a double-click on Send. */
const STOP_GRACE_MS = 150

let sheet = null
/**
 * One stylesheet for every element: the page's and the embed's own. The page's :root rules apply
 * to our root, and its rem sizes become pixels: a rem is the HOST's root font size, which is theirs.
 */
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet()
    sheet.replaceSync((pageCss.replaceAll(':root', '.t2s') + embedCss).replace(/(\d*\.?\d+)rem\b/g, (_, n) => `${+(n * ROOT_PX).toFixed(2)}px`))
  }
  return sheet
}

function originOf(url) {
  try {
    return url ? new URL(url).origin : null
  } catch {
    return null
  }
}

class Txt2sqlChat extends HTMLElement {
  static observedAttributes = ['lang', 'service', 'examples', 'api-key']
  #root
  #tokenSource = null
  #ui = null
  #client = null
  #text = null
  #history = []
  #controller = null
  #busySince = 0
  #health = null
  #follower = null

  constructor() {
    super()
    // A host that set getToken before this script ran set a plain property: take it over.
    if (Object.hasOwn(this, 'getToken')) {
      const early = this.getToken
      delete this.getToken
      this.getToken = early
    }
    this.#root = this.attachShadow({ mode: 'open' })
    this.#root.adoptedStyleSheets = [styles()]
  }

  /** An async function returning the current user's JWT: asked before each request, and again after a 401. */
  get getToken() {
    return this.#tokenSource
  }

  set getToken(fn) {
    this.#tokenSource = typeof fn === 'function' ? fn : null
  }

  connectedCallback() {
    if (!this.#ui) this.#render()
  }

  disconnectedCallback() {
    this.#controller?.abort()
  }

  attributeChangedCallback(name, before, after) {
    if (!this.#ui || before === after || name === 'api-key') return
    this.#controller?.abort()
    this.#render()
  }

  /** The service's origin: the `service` attribute, else where this script came from. */
  get #service() {
    return originOf(this.getAttribute('service')) ?? SCRIPT_ORIGIN
  }

  #render() {
    const lang = this.getAttribute('lang')
    this.#text = textFor(lang === 'zh' || lang === 'en' ? lang : pickLanguage())
    const { t } = this.#text
    this.#client = createClient({
      service: this.#service,
      bearer: async () => (this.#tokenSource ? ((await this.#tokenSource()) ?? '') : (this.getAttribute('api-key') ?? '')),
      retryUnauthorized: () => this.#tokenSource !== null,
    })
    this.#history = []
    const ui = {
      question: h('textarea.question', { id: 'question', rows: '1', required: '', placeholder: t.placeholder, 'aria-describedby': 'question-note' }),
      send: h('button.button.primary', { type: 'submit' }, t.send),
      stop: h('button.button.danger', { type: 'button', hidden: true }, t.stop),
      fresh: h('button.button.small', { type: 'button' }, t.newConversation),
      examples: h('div.examples', { role: 'group', 'aria-labelledby': 'examples-label', hidden: true }),
      empty: null,
      conversation: h('div.conversation'),
      notice: h('p.notice', { role: 'alert', hidden: true }),
      announcer: h('p.visually-hidden', { role: 'status' }),
    }
    ui.empty = h('div.empty', {}, h('p', {}, t.emptyState), ui.examples)
    ui.conversation.append(ui.empty)
    const scroller = h('section.scroller', { 'aria-label': t.embedLabel }, ui.conversation)
    ui.form = h('form.composer', { 'aria-label': t.composer },
      h('label.visually-hidden', { for: 'question' }, t.questionLabel),
      h('div.ask-row', {}, ui.question, ui.send, ui.stop),
      h('div.ask-options', {}, h('span.hint', { id: 'question-note' }, h('span.keys', {}, t.hint)), ui.fresh),
      ui.announcer)
    this.#root.replaceChildren(h('div.t2s', { lang: this.#text.lang === 'zh' ? 'zh-CN' : 'en' }, scroller, ui.notice, ui.form))
    this.#ui = ui
    this.#follower = createFollower(scroller)

    ui.form.addEventListener('submit', (e) => {
      e.preventDefault()
      const text = ui.question.value.trim()
      if (text && !this.#controller) this.#ask(text)
    })
    ui.question.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition does neither.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault()
        ui.form.requestSubmit()
      }
    })
    this.#root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.#controller) this.#controller.abort()
    })
    ui.stop.addEventListener('click', (e) => {
      if (e.detail > 1 || performance.now() - this.#busySince < STOP_GRACE_MS) return
      this.#controller?.abort()
    })
    ui.fresh.addEventListener('click', () => {
      this.#controller?.abort()
      this.#history = []
      for (const turn of ui.conversation.querySelectorAll('.turn')) turn.remove()
      ui.empty.hidden = false
      ui.question.focus()
    })
    this.#start()
  }

  /** Reads /healthz (runs on or off), then the examples; says in words when the service cannot be reached. */
  async #start() {
    const client = this.#client
    try {
      this.#health = await client.getHealth()
    } catch (err) {
      this.#health = null
      if (err.code === 'network_error') return this.#notice(await this.#networkError(client, err))
    }
    if (client !== this.#client || this.getAttribute('examples') === 'off') return
    const questions = await client.getExampleQuestions(EXAMPLES).catch(() => [])
    if (client !== this.#client || !questions.length) return
    const { examples } = this.#ui
    examples.replaceChildren(h('span.examples-label', { id: 'examples-label' }, this.#text.t.examples))
    for (const q of questions) {
      const chip = h('button.chip', { type: 'button' }, q)
      chip.addEventListener('click', () => this.#controller || this.#ask(q))
      examples.append(chip)
    }
    examples.hidden = false
  }

  #notice(err) {
    const { t } = this.#text
    this.#ui.notice.hidden = false
    this.#ui.notice.textContent = `${t.errors[err.code] ?? ''} ${err.message}`.trim()
  }

  /** A request that never got an answer: the service refused this origin (CORS), or is not reachable. */
  async #networkError(client, err) {
    const { t } = this.#text
    const why = await client.diagnoseNetwork()
    const message = why === 'cors' ? t.corsRefused(client.service, location.origin) : t.unreachable(client.service)
    return new ApiError(why === 'cors' ? 'cors_refused' : 'network_error', message, err)
  }

  #setBusy(controller) {
    this.#controller = controller
    this.#busySince = performance.now()
    this.#ui.send.hidden = controller !== null
    this.#ui.stop.hidden = controller === null
  }

  #focusIsUsable() {
    const el = this.#root.activeElement
    return Boolean(el && el.isConnected && !el.closest('[hidden]') && !el.disabled)
  }

  async #ask(text, turn = null) {
    const { t, numberLocale } = this.#text
    const client = this.#client
    const ctx = { t, numberLocale, client }
    const ui = this.#ui
    if (!turn) {
      turn = createTurn(text, ctx)
      ui.empty.hidden = true
      ui.conversation.append(turn)
    }
    const controller = new AbortController()
    this.#setBusy(controller)
    if (ui.question.value.trim() === text) ui.question.value = ''
    const view = turnView(turn, ctx)
    view.reset()
    this.#follower.start(turn)
    if (!this.#focusIsUsable()) turn.querySelector('.question-text').focus({ preventScroll: true })
    const history = this.#history.slice()
    const execute = this.#health?.execute === true
    const retry = () => this.#controller || this.#ask(text, turn)
    const failures = []
    const { outcome, answer } = await askTurn({
      client,
      view,
      t,
      body: { question: text, ...(history.length ? { history } : {}), ...(execute ? { execute: true, summarize: true } : {}) },
      signal: controller.signal,
      health: this.#health,
      runsOff: !execute,
      retry,
      onFailure: (err) => failures.push(err),
    })
    for (const err of failures) {
      const shown = err.code === 'network_error' ? await this.#networkError(client, err) : err
      view.error(shown, { retry: retryable(err) ? retry : undefined })
    }
    if (this.#controller === controller) this.#setBusy(null)
    if (client !== this.#client) return
    if (outcome === 'done') {
      rememberTurn(this.#history, text, answer)
      if (answer.requestId && answer.sqlSeen) renderFeedback(turn.querySelector('.feedback'), answer, ctx)
      ui.announcer.textContent = t.answered([answer.verdict, answer.rows !== null && t.rowsCount(answer.rows)].filter(Boolean))
    } else {
      ui.announcer.textContent = outcome === 'stopped' ? t.stopped : t.failed
      if (turn.isConnected && !ui.question.value.trim()) ui.question.value = text
    }
    this.#follower.settle()
    if (!this.#focusIsUsable()) ui.question.focus({ preventScroll: true })
  }
}

if (!customElements.get('txt2sql-chat')) customElements.define('txt2sql-chat', Txt2sqlChat)
