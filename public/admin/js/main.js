// The admin console (/admin/): sign in (a pasted token, or Cloudflare Access), then one section at
// a time, chosen by the address's #fragment. Every action is an admin API call (docs/ADMIN.md).
import { AdminError, call, readToken, saveToken, tokenSubject } from './admin-api.js'
import { t, translatePage } from './admin-text.js'
import { accuracyView, usageView } from './insight-view.js'
import { glossaryView, schemaView } from './curation-view.js'
import { examplesView, reviewView } from './examples-view.js'

translatePage()
const $ = (id) => document.getElementById(id)
const notice = $('notice')
const dialog = $('sign-in-dialog')

function announce(message, bad = false) {
  notice.hidden = false
  notice.dataset.state = bad ? 'bad' : 'ok'
  notice.textContent = message
}

const views = { review: reviewView({ announce }), examples: examplesView({ announce }), glossary: glossaryView(), schema: schemaView(), accuracy: accuracyView(), usage: usageView() }

async function show() {
  const name = location.hash.slice(1) in views ? location.hash.slice(1) : 'review'
  for (const key of Object.keys(views)) $(key).hidden = key !== name
  for (const link of document.querySelectorAll('nav.sections a')) {
    if (link.hash === `#${name}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  try {
    await views[name]()
  } catch (err) {
    refused(err)
  }
}

/** 401: ask for a token; 403: a valid token of no admin role — said plainly, the console stays closed. */
function refused(err) {
  if (!(err instanceof AdminError)) return announce(t.failed(String(err)), true)
  if (err.status === 403) {
    announce(t.forbidden(err.message), true)
    return
  }
  if (err.status === 401) {
    announce(t.unauthorized(err.message), true)
    $('sign-in-error').hidden = !readToken()
    $('sign-in-error').textContent = err.message
    if (!dialog.open) dialog.showModal()
    return
  }
  announce(t.failed(err.message), true)
}

/** Checks the credentials once (GET /v1/admin/schema), then shows the section. */
async function start() {
  const token = readToken()
  $('sign-out').hidden = !token
  try {
    await call('GET', '/v1/admin/schema')
  } catch (err) {
    $('signed-in').textContent = t.notSignedIn
    for (const key of Object.keys(views)) $(key).hidden = true
    return refused(err)
  }
  notice.hidden = true
  $('signed-in').textContent = t.signedInAs(token ? (tokenSubject(token) ?? t.adminToken) : t.viaAccess)
  await show()
}

$('sign-in').addEventListener('click', () => dialog.showModal())
$('sign-out').addEventListener('click', () => {
  saveToken('')
  start()
})
dialog.addEventListener('close', () => {
  if (dialog.returnValue !== 'save') return
  saveToken($('token-input').value.trim())
  $('token-input').value = ''
  start()
})
addEventListener('hashchange', () => {
  if (!$('signed-in').textContent.startsWith(t.notSignedIn)) show()
})
start()
