// <txt2sql-chat> (/embed.js, docs/EMBED.md) in a real browser, on host pages served from OTHER local
// origins with a strict CSP (no unsafe-*, no style-src for the service) and aggressive CSS, against
// `npm start` with JWT_SECRET and DB_ROLES over a Postgres with roles (test/fixtures/db/roles.sql):
// `analyst` may read employees (not their salary) and orders, `sales_rep` only orders; orders rows
// are per tenant. The host's own script supplies each element's JWT through getToken.
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './chromium'
import { SHOTS } from './playground-harness'
import { freePort } from './dev-server'
import { startRolesService, type RolesService } from './roles-service'

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const ADMIN = 'embed-admin-token'
/** An API key of the service, as a demo page would put it in the element's `api-key` attribute. */
const DEMO_KEY = 'embed-demo-key'
/** The ceiling BENCHMARKS.md states for /embed.js (P7). */
const EMBED_GZIP_CEILING = 30 * 1024

const STAFF = '各部门有多少员工'
const STAFF_SQL = 'SELECT d.name AS department, count(*) AS employees FROM employees e JOIN departments d ON d.id = e.department_id GROUP BY d.name ORDER BY d.name'
const ORDERS = '订单的客户和金额'
const ORDERS_SQL = 'SELECT customer, amount FROM orders ORDER BY id'
const answer = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``

type Host = { server: Server; origin: string; pages: Map<string, { html: string; csp: string }> }

let service: RolesService
let browser: Browser
let context: BrowserContext | undefined
let allowed: Host
let other: Host
let closedPort: number
/** The tokens each host page's script hands out (by page path): what the host's identity provider issued. */
const issued: Record<string, Record<string, string[]>> = {}

/** A host site: its pages (strict CSP, hostile CSS) and its own script, which sets each element's getToken. */
async function startHost(): Promise<Host> {
  const pages: Host['pages'] = new Map()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host')
    if (url.pathname === '/favicon.ico') return send(res, 'image/x-icon', '', 204)
    if (url.pathname === '/host.css') return send(res, 'text/css', HOSTILE_CSS)
    if (url.pathname === '/host.js') return send(res, 'text/javascript', hostScript(issued[url.searchParams.get('page') ?? ''] ?? {}))
    const page = pages.get(url.pathname)
    if (!page) return send(res, 'text/plain', 'not found', 404)
    send(res, 'text/html; charset=utf-8', page.html, 200, { 'content-security-policy': page.csp })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pages }
}

function send(res: import('node:http').ServerResponse, type: string, body: string, status = 200, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers })
  res.end(body)
}


/** Everything a careless host stylesheet does to what it does not own. */
const HOSTILE_CSS = `
* { font-family: "Comic Sans MS", fantasy !important; color: rgb(255, 0, 0) !important; line-height: 3 !important;
    letter-spacing: 6px !important; text-transform: uppercase !important; direction: rtl; font-size: 22px !important; }
button, textarea { background: rgb(255, 105, 180) !important; border: 6px dashed rgb(0, 255, 0) !important; }
div, p, span, section, article, form, h2, h3 { padding: 30px !important; margin: 20px !important; }
html, body { background: rgb(40, 40, 40); margin: 0; }
txt2sql-chat { width: 100%; max-width: 560px; height: 720px; }
`

/** The host's script: each element's getToken hands out the tokens issued for it in order, the last one kept. */
function hostScript(tokens: Record<string, string[]>): string {
  return `// A host page's own script: its identity provider stand-in.
const issued = ${JSON.stringify(tokens)};
const calls = {};
window.hostCalls = calls;
for (const [id, list] of Object.entries(issued)) {
  const el = document.getElementById(id);
  calls[id] = 0;
  el.getToken = async () => list[Math.min(calls[id]++, list.length - 1)];
}
`
}

/** A host page holding elements `<txt2sql-chat id=…>` with these attributes; /embed.js from the service. */
function hostPage(host: Host, path: string, elements: { id: string; attrs?: Record<string, string>; service?: string }[]): string {
  // The CSP the issue names: 'self' and the services the elements talk to; nothing inline, no style-src for them.
  const services = [...new Set([service.server.url, ...elements.map((e) => e.service ?? service.server.url)])].join(' ')
  const csp = `default-src 'self'; script-src 'self' ${services}; connect-src ${services}`
  const tags = elements.map((e) => `<txt2sql-chat id="${e.id}"${e.service ? ` service="${e.service}"` : ''}${Object.entries(e.attrs ?? {}).map(([k, v]) => ` ${k}="${v}"`).join('')}></txt2sql-chat>`)
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A host page</title><link rel="stylesheet" href="/host.css">
</head><body><main><h1>Company portal</h1>${tags.join('\n')}</main>
<script src="/host.js?page=${encodeURIComponent(path)}"></script>
<script src="${service.server.url}/embed.js"></script>
</body></html>`
  host.pages.set(path, { html, csp })
  return `${host.origin}${path}`
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  allowed = await startHost()
  other = await startHost()
  closedPort = await freePort()
  service = await startRolesService({ [STAFF]: answer(STAFF_SQL), [ORDERS]: answer(ORDERS_SQL) }, { CORS_ORIGINS: allowed.origin, ADMIN_TOKEN: ADMIN, API_KEYS: DEMO_KEY })
  // The company's approved examples (one per table), then a refresh: the example buttons come from them.
  const res = await fetch(`${service.server.url}/v1/admin/examples?refresh=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ examples: [{ question: STAFF, sql: STAFF_SQL }, { question: ORDERS, sql: ORDERS_SQL }] }),
  })
  expect(res.status).toBe(201)
  browser = await launchChromium()
}, 180_000)

afterEach(async () => {
  await context?.close()
  context = undefined
})

afterAll(async () => {
  await browser?.close()
  await service?.stop()
  for (const h of [allowed, other]) h?.server.close()
})

async function open(url: string, { width = 1200, locale = 'zh-CN' } = {}): Promise<{ page: Page; problems: string[]; bearers: string[]; paths: string[] }> {
  context = await browser.newContext({ locale, viewport: { width, height: 900 } })
  const page = await context.newPage()
  const problems: string[] = []
  const bearers: string[] = []
  const paths: string[] = []
  page.on('pageerror', (err) => problems.push(err.message))
  // A CSP violation is a console error; refused requests are what some tests are about.
  page.on('console', (m) => m.type() === 'error' && !/status of 401|CORS|ERR_CONNECTION_REFUSED|ERR_FAILED/.test(m.text()) && problems.push(m.text()))
  page.on('request', (req) => {
    paths.push(new URL(req.url()).pathname)
    if (req.url().endsWith('/v1/ask')) bearers.push(req.headers().authorization ?? '')
  })
  await page.goto(url)
  return { page, problems, bearers, paths }
}

/** Inside the element: playwright's locators pierce open shadow roots. */
const inside = (page: Page, id: string) => page.locator(`txt2sql-chat#${id}`)
const lastTurn = (el: Locator) => el.locator('.turn').last()
const settled = (el: Locator) => expect.poll(() => lastTurn(el).getAttribute('data-state'), { timeout: 30_000 }).toMatch(/^(done|failed|stopped)$/)

async function askIn(el: Locator, text: string) {
  await el.locator('textarea').fill(text)
  await el.locator('textarea').press('Enter')
}

describe('<txt2sql-chat> on another origin', { timeout: 120_000 }, () => {
  it('answers an example question as the JWT\'s role, with rows and a chart inside the element, under a strict CSP and hostile CSS', async () => {
    issued['/analyst'] = { a: [await service.token({ sub: 'alice', role: 'analyst', tenant: 'alpha' })] }
    const { page, problems } = await open(hostPage(allowed, '/analyst', [{ id: 'a', attrs: { lang: 'zh' } }]))
    const el = inside(page, 'a')
    // The role's approved examples, from GET /v1/examples/questions.
    await expect.poll(() => el.locator('.chip').allTextContents(), { timeout: 20_000 }).toEqual([STAFF, ORDERS])
    await el.locator('.chip', { hasText: STAFF }).click()
    await settled(el)
    expect(await lastTurn(el).getAttribute('data-state')).toBe('done')
    expect(await lastTurn(el).locator('.check').first().getAttribute('class')).toBe('check ok')
    expect(await lastTurn(el).locator('.result tbody tr').allTextContents()).toEqual(['华东销售部1', '研发中心2'])
    expect(await lastTurn(el).locator('svg.chart-bar rect.series').count()).toBe(2)
    // A second question of the session, as the same user: only their tenant's orders (row security).
    await askIn(el, ORDERS)
    await expect.poll(() => el.locator('.turn').count()).toBe(2)
    await settled(el)
    expect((await lastTurn(el).locator('.result tbody tr').allTextContents()).join()).toBe('阿尔法商贸100.00,阿尔法物流250.00')

    // The host's CSS reached nothing inside: not the inherited properties, not the controls.
    const style = await el.locator('.question-text').first().evaluate((q) => {
      const s = getComputedStyle(q)
      const b = getComputedStyle(q.getRootNode() instanceof ShadowRoot ? (q.getRootNode() as ShadowRoot).querySelector('button[type=submit]')! : q)
      const status = (q.getRootNode() as ShadowRoot).querySelector('.status-line')!
      return { statusSize: getComputedStyle(status).fontSize, color: s.color, font: s.fontFamily, letterSpacing: s.letterSpacing, transform: s.textTransform, direction: s.direction, size: s.fontSize, buttonBg: b.backgroundColor, buttonBorder: b.borderStyle }
    })
    // Sizes too: the page's .8rem is 12.8 px here, whatever the host's root font size (22 px).
    expect(style.statusSize).toBe('12.8px')
    expect(style.color).not.toBe('rgb(255, 0, 0)')
    expect(style.font).not.toMatch(/Comic|fantasy/)
    expect(style.letterSpacing).toBe('normal')
    expect(style.transform).toBe('none')
    expect(style.direction).toBe('ltr')
    expect(style.size).not.toBe('22px')
    expect(style.buttonBg).not.toBe('rgb(255, 105, 180)')
    expect(style.buttonBorder).not.toBe('dashed')
    // It added nothing global but the element: no style or script in the host's document, one new name.
    expect(await page.evaluate(() => [document.querySelectorAll('style').length, document.querySelectorAll('script').length, document.adoptedStyleSheets.length])).toEqual([0, 2, 0])
    expect(await page.evaluate(() => typeof customElements.get('txt2sql-chat'))).toBe('function')
    expect(problems).toEqual([])
  })

  it('refreshes a token that expired mid-session through getToken, once, and a role that may not read the table gets a refusal, not rows', async () => {
    const fresh = await service.token({ sub: 'alice', role: 'analyst', tenant: 'alpha' })
    const expired = await service.token({ sub: 'alice', role: 'analyst', tenant: 'alpha', exp: Math.floor(Date.now() / 1000) - 60 })
    const renewed = await service.token({ sub: 'alice', role: 'analyst', tenant: 'alpha', jti: 'renewed' })
    // getToken's calls: /healthz, the examples, the first question; then the cached token has expired.
    issued['/expiry'] = { a: [fresh, fresh, fresh, expired, renewed], b: [await service.token({ sub: 'bob', role: 'sales_rep', tenant: 'beta' })] }
    const { page, bearers } = await open(hostPage(allowed, '/expiry', [{ id: 'a', attrs: { lang: 'zh' } }, { id: 'b', attrs: { lang: 'en' } }]))
    const a = inside(page, 'a')
    const b = inside(page, 'b')
    await expect.poll(() => a.locator('.chip').count(), { timeout: 20_000 }).toBe(2)
    await askIn(a, ORDERS)
    await settled(a)
    await askIn(a, STAFF)
    await expect.poll(() => a.locator('.turn').count()).toBe(2)
    await settled(a)
    expect(await lastTurn(a).getAttribute('data-state')).toBe('done')
    expect(await lastTurn(a).locator('.result tbody tr').count()).toBe(2)
    // Element b has asked nothing yet: these are a's.
    expect(bearers).toEqual([`Bearer ${fresh}`, `Bearer ${expired}`, `Bearer ${renewed}`])
    expect(await page.evaluate(() => (window as unknown as { hostCalls: Record<string, number> }).hostCalls.a)).toBe(5)

    // The other element on the page: its own user, language and conversation. Its role reads no
    // employees: that example is not offered, and asked anyway, the answer is refused, not rows.
    await expect.poll(() => b.locator('.chip').allTextContents(), { timeout: 20_000 }).toEqual([ORDERS])
    expect(await b.locator('button[type=submit]').textContent()).toBe('Send')
    expect(await b.locator('.turn').count()).toBe(0)
    await askIn(b, STAFF)
    await settled(b)
    expect(await lastTurn(b).locator('.result tbody tr').count()).toBe(0)
    expect(await lastTurn(b).locator('.check').first().getAttribute('class')).toMatch(/check (failed|none)/)
    expect(await a.locator('.turn').count()).toBe(2)
  })

  it('says in words that the service refused this origin (CORS), or that it could not be reached', async () => {
    issued['/elsewhere'] = { c: [await service.token({ sub: 'carol', role: 'analyst', tenant: 'alpha' })], d: [''] }
    const { page } = await open(hostPage(other, '/elsewhere', [{ id: 'c', attrs: { lang: 'en' } }, { id: 'd', attrs: { lang: 'en' }, service: `http://127.0.0.1:${closedPort}` }]))
    const c = inside(page, 'c')
    await expect.poll(() => c.locator('.notice').textContent(), { timeout: 20_000 }).toContain('CORS_ORIGINS')
    expect(await c.locator('.notice').textContent()).toContain(`does not accept requests from pages at ${other.origin}`)
    const d = inside(page, 'd')
    await expect.poll(() => d.locator('.notice').textContent(), { timeout: 20_000 }).toContain(`Could not reach the service at http://127.0.0.1:${closedPort}`)
    // Asked anyway: the turn says the same, in place of an answer.
    await askIn(c, ORDERS)
    await settled(c)
    expect(await lastTurn(c).locator('.error-title').textContent()).toBe('Error · cors_refused')
    expect(await lastTurn(c).locator('.error-message').textContent()).toContain('CORS_ORIGINS')
  })

  it('fits a 320 px wide screen, is reachable by keyboard, and axe finds nothing inside it', async () => {
    issued['/phone'] = { a: [await service.token({ sub: 'alice', role: 'analyst', tenant: 'alpha' })] }
    const { page } = await open(hostPage(allowed, '/phone', [{ id: 'a', attrs: { lang: 'zh' } }]), { width: 320 })
    const el = inside(page, 'a')
    await expect.poll(() => el.locator('.chip').count(), { timeout: 20_000 }).toBe(2)
    await el.locator('.chip', { hasText: STAFF }).click()
    await settled(el)
    const overflow = await page.evaluate(() => {
      const root = document.querySelector('txt2sql-chat')!.shadowRoot!.querySelector('.t2s') as HTMLElement
      return { root: root.scrollWidth - root.clientWidth, width: root.getBoundingClientRect().width, page: document.documentElement.scrollWidth - innerWidth }
    })
    expect(overflow.root).toBeLessThanOrEqual(0)
    expect(overflow.page).toBeLessThanOrEqual(0)
    expect(overflow.width).toBeLessThanOrEqual(320)
    await page.screenshot({ path: join(SHOTS, 'embed-320.png') })
    // Keyboard: the question box takes the focus and Enter sends.
    await el.locator('textarea').focus()
    await page.keyboard.type(ORDERS)
    await page.keyboard.press('Enter')
    await expect.poll(() => el.locator('.turn').count()).toBe(2)
    await settled(el)
    // axe-core, injected from node_modules by the test runner (the page's CSP admits no inline script).
    await page.evaluate(readFileSync(AXE, 'utf8'))
    const violations = await page.evaluate(async () => {
      type Result = { id: string; nodes: { target: unknown }[] }
      const axe = (window as unknown as { axe: { run: (ctx: object, o: object) => Promise<{ violations: Result[]; passes: Result[] }> } }).axe
      const { violations, passes } = await axe.run({ include: [{ fromShadowDom: ['txt2sql-chat', '.t2s'] }] }, { resultTypes: ['violations'] })
      return { violations: violations.map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target) })), passed: passes.map((p) => p.id) }
    })
    expect(violations.violations).toEqual([])
    // It looked inside the element: these rules found something there to pass.
    expect(violations.passed).toEqual(expect.arrayContaining(['button-name', 'color-contrast', 'label', 'aria-allowed-attr']))
  })

  it('works without getToken on a demo page through its api-key attribute, and shows no examples when told examples="off"', async () => {
    issued['/demo'] = {}
    const { page, bearers, paths } = await open(hostPage(allowed, '/demo', [{ id: 'k', attrs: { lang: 'en', 'api-key': DEMO_KEY, examples: 'off' } }]))
    const k = inside(page, 'k')
    await askIn(k, ORDERS)
    await settled(k)
    expect(await lastTurn(k).getAttribute('data-state')).toBe('done')
    expect(bearers).toEqual([`Bearer ${DEMO_KEY}`])
    // By now the element has long read /healthz (and would have read the examples): none were asked for.
    expect(paths).toContain('/healthz')
    expect(paths).not.toContain('/v1/examples/questions')
    expect(await k.locator('.chip').count()).toBe(0)
  })

  it('is one classic script under 30 KB gzip, cached briefly and revalidated, loadable from any origin', async () => {
    const res = await fetch(`${service.server.url}/embed.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300, must-revalidate')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('cross-origin-resource-policy') ?? 'cross-origin').toBe('cross-origin')
    expect(res.headers.get('etag')).toBeTruthy()
    const body = Buffer.from(await res.arrayBuffer())
    expect(gzipSync(body, { level: 9 }).length).toBeLessThanOrEqual(EMBED_GZIP_CEILING)
    expect(readFileSync(new URL('../../public/embed.js', import.meta.url)).equals(body)).toBe(true)
  })
})

