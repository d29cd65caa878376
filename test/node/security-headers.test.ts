// The static files' security headers (public/_headers) as `npm start` (wrangler dev) serves them,
// and what they are for, in Chromium: another origin cannot frame the playground, and the pages
// still run under their own Content-Security-Policy. The Worker's responses: test/security-headers.test.ts.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, relative } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './chromium'
import { freePort, startDevServer, type DevServer } from './dev-server'

const root = join(import.meta.dirname, '..', '..')
const publicDir = join(root, 'public')

let server: DevServer
let browser: Browser
let other: Server
let otherUrl: string

beforeAll(async () => {
  // The embedded demo database and the fake DashScope: the page needs a service to start against.
  server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined, DATABASE_URL: undefined })
  browser = await launchChromium()
  // "Another origin": a page on another port of the same host, framing ours.
  const port = await freePort()
  otherUrl = `http://localhost:${port}`
  other = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    if (req.url === '/inner') return res.end('<!doctype html><title>inner</title><p id="inner">framed fine</p>')
    const src = new URL(req.url ?? '/', otherUrl).searchParams.get('src') ?? ''
    res.end(`<!doctype html><title>attacker</title><iframe id="victim" src="${src}"></iframe><iframe id="control" src="/inner"></iframe>`)
  })
  await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve))
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await new Promise((resolve) => other?.close(resolve))
})

/** Every file under public/ (the built vendor/ files included), as the URL that serves it. */
function publicUrls(): string[] {
  const files = readdirSync(publicDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
  return files
    .map((d) => relative(publicDir, join(d.parentPath, d.name)).split('\\').join('/'))
    .filter((path) => path !== '_headers') // read by the asset server, not served
    .map((path) => `/${path.replace(/(^|\/)index\.html$/, '$1')}`)
}

const isPage = (url: string) => url === '/' || url.endsWith('/')

describe('the static files (public/_headers) through npm start', () => {
  it('every file carries nosniff and no-referrer; none is kept to its own origin by CORP', async () => {
    const urls = publicUrls()
    expect(urls).toEqual(expect.arrayContaining(['/', '/api/', '/openapi.json', '/vendor/playground.js', '/js/result-data.js', '/favicon.svg']))
    for (const url of urls) {
      const res = await fetch(server.url + url)
      await res.body?.cancel()
      expect([url, res.status]).toEqual([url, 200])
      expect([url, res.headers.get('x-content-type-options')]).toEqual([url, 'nosniff'])
      expect([url, res.headers.get('referrer-policy')]).toEqual([url, 'no-referrer'])
      // None kept to its own origin; /embed.js says cross-origin outright (issue 33: other sites load it).
      expect([url, res.headers.get('cross-origin-resource-policy')]).toEqual([url, url === '/embed.js' ? 'cross-origin' : null])
      // Each page has its policy; nothing else needs one (a CSP on a script file does nothing).
      if (!isPage(url)) expect([url, res.headers.get('content-security-policy')]).toEqual([url, null])
    }
  })

  it('each page has exactly one CSP: self only, no framing, no <base>, no form posts, no plug-ins; and no framing by X-Frame-Options either', async () => {
    const pages = publicUrls().filter(isPage)
    expect(pages).toEqual(expect.arrayContaining(['/', '/api/']))
    for (const url of pages) {
      const res = await fetch(server.url + url)
      const html = await res.text()
      const csp = res.headers.get('content-security-policy') ?? ''
      // The asset server appends the headers of every matching rule: two policies would show as a comma list.
      expect([url, csp.match(/default-src/g)?.length]).toEqual([url, 1])
      for (const directive of ["default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'", "object-src 'none'"]) expect([url, csp]).toEqual([url, expect.stringContaining(directive)])
      expect([url, res.headers.get('x-frame-options')]).toEqual([url, 'DENY'])
      // Every inline script is allowed by its hash, and only these are.
      const inline = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!).filter((code) => code.trim() !== '')
      const hashes = inline.map((code) => `'sha256-${createHash('sha256').update(code).digest('base64')}'`)
      expect([url, [...csp.matchAll(/'sha256-[^']+'/g)].map((m) => m[0])]).toEqual([url, hashes])
      expect([url, /\sstyle=|\son[a-z]+=/i.test(html)]).toEqual([url, false]) // no inline styles or handlers to allow
    }
  })

  it('/admin/, the console\'s page, carries the page policy (its own rule: the files under it carry none)', async () => {
    const rule = readFileSync(join(publicDir, '_headers'), 'utf8')
    expect(rule).toMatch(/^\/admin\/\n(?: {2}.*\n)*? {2}Content-Security-Policy: default-src 'self';.*frame-ancestors 'none'/m)
    expect(rule).not.toMatch(/^\/admin\/\*/m)
    const res = await fetch(`${server.url}/admin/`)
    await res.body?.cancel()
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
  })
})

describe('in Chromium', () => {
  it('a page on another origin cannot frame the playground (or /api/), while a framable file and its own frame load', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      for (const path of ['/', '/api/']) {
        await page.goto(`${otherUrl}/?src=${encodeURIComponent(server.url + path)}`, { waitUntil: 'load' })
        const control = page.frames().find((f) => f.url().endsWith('/inner'))!
        await expect.poll(() => control.locator('#inner').count()).toBe(1)
        const victim = page.frames().find((f) => f !== page.mainFrame() && f !== control)!
        // Chromium replaces a frame refused by frame-ancestors with its error page.
        expect(victim.url()).not.toBe(server.url + path)
        expect(await victim.locator('#service, #reference').count()).toBe(0)
      }
      // The test can tell a loaded frame: a file without frame-ancestors loads across origins.
      await page.goto(`${otherUrl}/?src=${encodeURIComponent(`${server.url}/favicon.svg`)}`, { waitUntil: 'load' })
      const svg = page.frames().find((f) => f.url() === `${server.url}/favicon.svg`)
      expect(svg).toBeDefined()
    } finally {
      await context.close()
    }
  })

  it('the playground and the API reference run under their CSP without one violation', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const violations: string[] = []
      page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && violations.push(m.text()))
      await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to: CSP ${e.violatedDirective} ${e.blockedURI}`)))
      await page.goto(server.url)
      await page.locator('#service').filter({ hasText: /qwen-plus|fake/ }).waitFor()
      await page.goto(`${server.url}/api/`)
      await page.locator('#reference h1').waitFor()
      expect(violations).toEqual([])
    } finally {
      await context.close()
    }
  })
})
