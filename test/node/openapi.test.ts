import { Validator } from '@seriousme/openapi-schema-validator'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript (the page's own module), no type declarations
import { LABELS, renderReference } from '../../public/api/reference.js'
import { startDevServer, type DevServer } from './dev-server'

const root = join(import.meta.dirname, '..', '..')
const text = readFileSync(join(root, 'public', 'openapi.json'), 'utf8')
const doc = JSON.parse(text)
const METHODS = ['get', 'head', 'post', 'put', 'delete']

describe('public/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator, every $ref resolved)', async () => {
    const validator = new Validator()
    const result = await validator.validate(doc)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('would fail validation with a response lacking its description or a dangling $ref', async () => {
    const broken = structuredClone(doc)
    delete broken.paths['/healthz'].get.responses['200'].description
    expect((await new Validator().validate(broken)).valid).toBe(false)
    const dangling = structuredClone(doc)
    dangling.paths['/v1/ask'].post.requestBody.content['application/json'].schema.$ref = '#/components/schemas/Nope'
    expect((await new Validator().validate(dangling)).valid).toBe(false)
  })
})

describe('the API reference page (public/api/reference.js)', () => {
  const html: string = renderReference(doc)

  it('shows every operation, with its method, path and summary', () => {
    for (const [path, item] of Object.entries<Record<string, { summary: string }>>(doc.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const id = `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`
        expect(html).toContain(`id="${id}"`)
        expect(html).toContain(`href="#${id}"`)
        expect(html).toContain(item[method]!.summary.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;').replace(/`([^`]+)`/g, '<code>$1</code>'))
      }
    }
  })

  it('shows each event of the answer stream with its data fields', () => {
    for (const event of ['meta', 'reasoning', 'delta', 'repair', 'sql', 'rows', 'result', 'usage', 'error', 'done']) expect(html).toContain(`<code>event: ${event}</code>`)
    for (const field of ['request_id', 'plan_rows', 'check_error', 'retryable', 'finish_reason', 'ttft_ms']) expect(html).toContain(`<code>${field}</code>`)
  })

  it('shows request fields with their limits and the error codes', () => {
    expect(html).toMatch(/<code>question<\/code> <span class="req">required<\/span><\/td><td>string <small>\(≥ 1 chars, ≤ 2000 chars\)/)
    expect(html).toContain('<code>&quot;execute_not_allowed&quot;</code>')
    expect(html).not.toMatch(/undefined|\[object Object\]|NaN/)
  })

  it('puts its own words in Chinese for a Chinese browser, and says the document is English', () => {
    const zh: string = renderReference(doc, LABELS.zh)
    expect(zh).toContain('<h4>响应</h4>')
    expect(zh).toContain('<h2 id="schemas">数据结构</h2>')
    expect(zh).toMatch(/<code>question<\/code> <span class="req">必填<\/span>/)
    expect(zh).toContain('接口说明取自 OpenAPI 文档，为英文原文。')
    expect(zh).not.toMatch(/>(Responses|Parameters|Request body|Schemas)</)
  })
})

describe('served by wrangler dev (npm start)', () => {
  let server: DevServer
  beforeAll(async () => {
    server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined, DATABASE_URL: undefined })
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('GET /openapi.json is the document', async () => {
    const res = await fetch(`${server.url}/openapi.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toEqual(doc)
  })

  it('GET /api/ is the reference page, with its script and styles', async () => {
    const page = await fetch(`${server.url}/api/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    expect(html).toContain("import { LABELS, renderReference } from './reference.js'")
    expect(html).toContain("fetch('../openapi.json')")
    const script = await fetch(`${server.url}/api/reference.js`)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    expect(await script.text()).toContain('export function renderReference')
    expect((await fetch(`${server.url}/api/reference.css`)).status).toBe(200)
    // /api without the slash goes to /api/, where the page's relative links resolve.
    const bare = await fetch(`${server.url}/api`, { redirect: 'manual' })
    expect([301, 302, 307, 308]).toContain(bare.status)
    expect(new URL(bare.headers.get('location')!, server.url).pathname).toBe('/api/')
  })

  it('the routes of the app still answer beside the assets', async () => {
    const res = await fetch(`${server.url}/healthz`)
    expect(res.status).toBe(200)
    const unknown = await fetch(`${server.url}/no-such-page`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found')
    // The asset server itself refuses other methods on an asset.
    const post = await fetch(`${server.url}/openapi.json`, { method: 'POST' })
    expect(post.status).toBe(405)
    await post.arrayBuffer()
  })
})
