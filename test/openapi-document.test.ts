import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import published from '../public/openapi.json'
import { app } from '../src/app'
import { readConfig } from '../src/config'
import { buildOpenApiDocument } from '../src/openapi/openapi-document'
import { call, clearSnapshot, putDemoSnapshot } from './support/app'

type Operations = Record<string, Record<string, unknown>>
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']
// Served by Workers static assets (public/), not by a route of the app.
const STATIC = new Set(['GET /openapi.json'])

function documented(doc: { paths: Operations }): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
}

describe('the OpenAPI document at /openapi.json', () => {
  it('is exactly what the route schemas build at the wrangler.toml defaults (run `npm run openapi` after changing them)', () => {
    expect(buildOpenApiDocument(readConfig(env))).toEqual(published)
  })

  it('documents every route of the app, and nothing the app does not serve', () => {
    // Hono answers HEAD for every GET by itself; the app's routes are its GET/POST/PUT/DELETE handlers.
    const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
    const docs = documented(published).filter((op) => !op.startsWith('HEAD ') && !STATIC.has(op))
    expect(new Set(docs)).toEqual(new Set(routes))
    expect(docs).toHaveLength(new Set(docs).size)
  })

  it('lists, for each fixed path, exactly the methods the app allows there (its 405 Allow header)', async () => {
    const fixed = Object.keys(published.paths).filter((p) => !p.includes('{') && !STATIC.has(`GET ${p}`))
    expect(fixed.length).toBeGreaterThan(5)
    for (const path of fixed) {
      // With the admin token, so the admin routes get past their guard to the method check.
      const res = await call(path, { method: 'PATCH', headers: { authorization: 'Bearer admin-token' } }, { ADMIN_TOKEN: 'admin-token' })
      expect(res.status, path).toBe(405)
      const allowed = res.headers.get('allow')!.split(', ').sort()
      const methods = documented(published).filter((op) => op.endsWith(` ${path}`)).map((op) => op.split(' ')[0]!)
      // Hono answers HEAD wherever GET is served, and the Allow header says so.
      expect(allowed, path).toEqual([...new Set([...methods, ...(methods.includes('GET') ? ['HEAD'] : [])])].sort())
    }
  })

  it('documents the error shape the app sends, with every status a documented operation may answer', async () => {
    const res = await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"question": 1}' })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    const schema = published.components.schemas.Error
    expect(Object.keys(body)).toEqual(schema.required)
    expect(Object.keys(body.error).sort()).toEqual([...schema.properties.error.required].sort())
    expect(schema.properties.error.properties.code.enum).toContain(body.error.code)
    for (const ref of JSON.stringify(published.paths).match(/#\/components\/responses\/\w+/g) ?? []) {
      expect(published.components.responses, ref).toHaveProperty(ref.split('/').at(-1)!)
    }
  })

  it('gives the ask request the limits the service enforces', async () => {
    const ask = published.components.schemas.AskRequest
    expect(ask.properties.question.maxLength).toBe(readConfig(env).maxQuestionChars)
    expect(ask.properties.history.maxItems).toBe(readConfig(env).maxHistoryTurns)
    const tooLong = await call('/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'x'.repeat(ask.properties.question.maxLength + 1) }) })
    expect(tooLong.status).toBe(400)
  })

  it('documents /healthz as the app answers it, ready and not ready', async () => {
    const op = published.paths['/healthz'].get
    const schema = published.components.schemas.Health
    for (const prepare of [putDemoSnapshot, clearSnapshot]) {
      await prepare()
      const res = await call('/healthz')
      expect(Object.keys(op.responses)).toContain(String(res.status))
      const body = (await res.json()) as Record<string, unknown>
      for (const key of schema.required) expect(body).toHaveProperty(key)
      for (const key of Object.keys(body)) expect(Object.keys(schema.properties)).toContain(key)
    }
  })
})
