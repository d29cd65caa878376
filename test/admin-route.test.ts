import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { loadSnapshot, readPointerFrom } from '../src/schema/snapshot-store'
import { call, clearSnapshot, putDemoSnapshot } from './support/app'

const ADMIN = { ADMIN_TOKEN: 'admin-secret' }
const put = (body: unknown, headers: Record<string, string> = { authorization: 'Bearer admin-secret' }, overrides = ADMIN) =>
  call('/v1/admin/schema', { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, overrides)

const tiny = {
  version: 'curated-7',
  tables: [{ name: 'dtzpt', comment: '地铁站点', columns: [{ name: 'name', type: 'text', comment: '站名' }] }],
  examples: [{ question: '沈塘桥站的信息', sql: "SELECT * FROM dtzpt WHERE name LIKE '%沈塘桥%'" }],
}

beforeEach(clearSnapshot)

describe('PUT /v1/admin/schema', () => {
  it('stores a valid snapshot that the next question and /healthz use', async () => {
    const res = await put(tiny)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ version: 'curated-7', tables: 1, examples: 1 })
    const stored = await loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    expect(stored).toMatchObject({ version: 'curated-7', source: 'upload', tables: [{ schema: 'public', kind: 'table', name: 'dtzpt' }] })
    expect(Date.parse((await readPointerFrom(env.SCHEMA_KV))!.refreshed_at)).not.toBeNaN()
    expect(await (await call('/healthz')).json()).toMatchObject({ schema_version: 'curated-7' })
  })

  it('accepts the demo snapshot as uploaded', async () => {
    expect((await put(demoSnapshot)).status).toBe(200)
  })

  it('refuses an invalid snapshot with 400 naming the field, and keeps the previous one', async () => {
    await putDemoSnapshot()
    const res = await put({ version: 'bad', tables: [{ name: 'x', columns: [] }] })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('invalid_request')
    expect(body.error.message).toContain('tables.0.columns')
    expect((await readPointerFrom(env.SCHEMA_KV))!.version).toBe(demoSnapshot.version)
  })

  it.each([
    ['a newline', 'curated-7\nforged log line'],
    ['an escape sequence', 'curated-\u001b[2J7'],
    ['a NUL', 'curated\u00007'],
    ['a right-to-left override', 'curated-\u202e7'],
    ['a line separator', 'curated\u20287'],
  ])('refuses a version holding %s with 400, and keeps the previous snapshot', async (_name, version) => {
    await putDemoSnapshot()
    const res = await put({ ...tiny, version })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('version') })
    expect((await readPointerFrom(env.SCHEMA_KV))!.version).toBe(demoSnapshot.version)
  })

  it('takes a version in any script, spaces and punctuation included', async () => {
    const res = await put({ ...tiny, version: '地铁 2026-12 (curated) #7' })
    expect(await res.json()).toMatchObject({ version: '地铁 2026-12 (curated) #7' })
  })

  it('is 401 without the admin token, with a wrong one, and while ADMIN_TOKEN is unset', async () => {
    expect((await put(tiny, {})).status).toBe(401)
    expect((await put(tiny, { authorization: 'Bearer nope' })).status).toBe(401)
    expect((await put(tiny, { authorization: 'Bearer admin-secret' }, {} as typeof ADMIN)).status).toBe(401)
    expect(await readPointerFrom(env.SCHEMA_KV)).toBeNull()
  })

  it('is 415 for a body that is not JSON', async () => {
    const res = await call('/v1/admin/schema', { method: 'PUT', headers: { authorization: 'Bearer admin-secret', 'content-type': 'text/csv' }, body: 'a,b' }, ADMIN)
    expect(res.status).toBe(415)
  })
})
