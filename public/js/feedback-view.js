// Correct/wrong under an answer's SQL (POST /v1/feedback), with an optional corrected SQL.
/**
 * @param {HTMLElement} box @param {{requestId: string, sql: string | null}} answer
 * @param {{t: object, client: {sendFeedback: (body: object) => Promise<{status: number, body: any}>}}} ctx
 */
export function renderFeedback(box, answer, { t, client }) {
  box.hidden = false
  // The document's, or the shadow root's the box lives in (<txt2sql-chat>): where the focus is.
  const focused = () => box.getRootNode().activeElement
  const prompt = document.createElement('span')
  prompt.className = 'feedback-question'
  prompt.textContent = t.feedbackQuestion
  const good = makeButton(t.correct, 'good')
  const bad = makeButton(t.wrong, 'bad')
  const status = document.createElement('p')
  status.className = 'feedback-status'
  status.setAttribute('role', 'status')
  // Focus waits here while the buttons are disabled (and after), never on the page's <body>.
  status.tabIndex = -1
  const row = document.createElement('div')
  row.className = 'feedback-row'
  row.append(prompt, good, bad)
  box.replaceChildren(row, status)
  if (answer.sql === null) good.disabled = true

  const submit = async (body, pressed) => {
    const hadFocus = box.contains(focused())
    if (hadFocus) status.focus({ preventScroll: true })
    for (const b of box.querySelectorAll('button, textarea')) b.disabled = true
    status.className = 'feedback-status'
    status.textContent = '…'
    try {
      const res = await client.sendFeedback({ request_id: answer.requestId, ...body })
      status.textContent = res.body.stored ? t.feedbackStored : t.feedbackNoted
      status.classList.add('ok')
      box.dataset.sent = body.correct ? 'correct' : 'wrong'
    } catch (err) {
      const code = err.code ?? 'network_error'
      status.textContent = `${t.errorTitle(code)}: ${t.errors[code] ? `${t.errors[code]} ` : ''}${err.message}`
      status.classList.add('failed')
      for (const b of box.querySelectorAll('button, textarea')) b.disabled = false
      if (answer.sql === null) good.disabled = true
      if (hadFocus && focused() === status) pressed.focus()
    }
  }
  good.addEventListener('click', () => submit({ correct: true }, good))
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
    const send = makeButton(t.sendFeedback, 'primary')
    const cancel = makeButton(t.cancel)
    send.addEventListener('click', () => {
      const sql = area.value.trim()
      submit({ correct: false, ...(sql && sql !== answer.sql ? { sql } : {}) }, send)
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

function makeButton(text, kind = '') {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = `button small ${kind}`.trim()
  b.textContent = text
  return b
}
