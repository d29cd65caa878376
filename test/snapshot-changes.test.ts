import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { linkIndexFor } from '../src/linking/index-cache'
import { valueKey } from '../src/linking/value-keys'
import { createSnapshotCache } from '../src/schema/snapshot-cache'
import { loadSnapshot, readStoredSnapshot } from '../src/schema/snapshot-store'
import type { Snapshot } from '../src/schema/snapshot-schema'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { ask, call, clearSnapshot, dbEnv } from './support/app'
import { readEvents } from './support/streams'

// The admin's three ways of changing what the model is told — a glossary PUT, an overlay PUT and a
// refresh — in every order people use them: each keeps the link index a refresh built (row values
// from the database, synonyms), each change of content moves the version, and a change nobody
// made is not reported as one.
const ADMIN = { ADMIN_TOKEN: 'admin-secret', ...dbEnv('metro') }
const auth = { authorization: 'Bearer admin-secret', 'content-type': 'application/json' }
const put = (path: string, body: unknown) => call(path, { method: 'PUT', headers: auth, body: JSON.stringify(body) }, ADMIN)

const GLOSSARY = { terms: [{ term: '客流', aliases: ['客流量'], definition: '进站人次 + 出站人次', columns: ['daily_ridership.entries', 'daily_ridership.exits'] }] }
const OTHER_GLOSSARY = { terms: [{ term: '票务收入', definition: '各站间票价之和', tables: ['fares'] }] }
const OVERLAY = { tables: { stations: { comment: '地铁站点（策展）' } } }

type Step = 'refresh' | 'glossary' | 'other glossary' | 'no glossary' | 'overlay' | 'overlay+refresh'
type Outcome = { status: number; version: string; changed?: boolean }

async function apply(step: Step): Promise<Outcome> {
  const res =
    step === 'refresh'
      ? await call('/v1/admin/schema/refresh', { method: 'POST', headers: auth }, ADMIN)
      : step === 'glossary'
        ? await put('/v1/admin/glossary', GLOSSARY)
        : step === 'other glossary'
          ? await put('/v1/admin/glossary', OTHER_GLOSSARY)
          : step === 'no glossary'
            ? await put('/v1/admin/glossary', { terms: [] })
            : await put(`/v1/admin/schema/overlay${step === 'overlay+refresh' ? '?refresh=true' : ''}`, OVERLAY)
  const body = (await res.json()) as { version?: string; changed?: boolean; refresh?: { version: string; changed: boolean } | null }
  return { status: res.status, version: body.version ?? body.refresh?.version ?? (await current()).version, changed: body.changed ?? body.refresh?.changed }
}

/** What this isolate serves now, and what a fresh isolate reads from KV (its cache is empty). */
const current = () => loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
async function freshIsolate(): Promise<Snapshot> {
  const cache = createSnapshotCache(readStoredSnapshot)
  return cache.load(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
}

/** The row values of the database and the synonym table are in the index the question is linked with. */
function expectRefreshIndex(snapshot: Snapshot) {
  const index = linkIndexFor(snapshot)
  expect(Object.keys(index.values)).toContain(valueKey('打铁关'))
  expect(Object.keys(index.values)).toContain(valueKey('婺江路'))
  return index
}

async function tablesFor(question: string): Promise<{ events: string[]; tables: string[] }> {
  const events = await readEvents((await ask({ question }, ADMIN)).body!)
  return { events: events.map((e) => e.event), tables: events[0]!.data.tables as string[] }
}

beforeEach(clearSnapshot)

describe('glossary, overlay and refresh in any order', () => {
  const ORDERS: Step[][] = [
    ['refresh', 'glossary'],
    ['refresh', 'glossary', 'refresh'],
    ['refresh', 'glossary', 'other glossary', 'no glossary'],
    ['refresh', 'overlay', 'glossary', 'refresh'],
    ['refresh', 'overlay+refresh', 'glossary'],
    ['refresh', 'glossary', 'overlay+refresh', 'refresh'],
  ]

  it.each(ORDERS.map((o) => [o.join(' → '), o] as const))('%s: the link index keeps the row values and synonyms, the version follows the content', async (_name, order) => {
    const first = await apply(order[0]!)
    expect(first.status).toBe(200)
    const refreshIndex = JSON.stringify(expectRefreshIndex(await current()))
    const seen = new Map<string, string>([[first.version, JSON.stringify(contentOf(await current()))]])
    for (const step of order.slice(1)) {
      const before = await current()
      const outcome = await apply(step)
      expect(outcome.status, step).toBe(200)
      const after = await current()
      const fresh = await freshIsolate()
      // The writer and a fresh isolate serve the same snapshot, with the same index the refresh built.
      expect(fresh.version).toBe(after.version)
      expect(outcome.version).toBe(after.version)
      for (const s of [after, fresh]) {
        const index = expectRefreshIndex(s)
        // An overlay changes comments, so a refresh after it indexes other terms; otherwise the index is the refresh's own.
        if (!order.includes('overlay') && !order.includes('overlay+refresh')) expect(JSON.stringify(index), step).toBe(refreshIndex)
      }
      const contentChanged = JSON.stringify(contentOf(after)) !== JSON.stringify(contentOf(before))
      // Each change of content moves the version; a step that changed nothing keeps it, and says so.
      expect(after.version !== before.version, `${step}: version ${before.version} → ${after.version}`).toBe(contentChanged)
      if (outcome.changed !== undefined) expect(outcome.changed, `${step} reports changed`).toBe(contentChanged)
      // A version names one content only.
      const known = seen.get(after.version)
      if (known !== undefined) expect(known, `version ${after.version} names two contents`).toBe(JSON.stringify(contentOf(after)))
      seen.set(after.version, JSON.stringify(contentOf(after)))
    }
  })

  it('a question naming a station by its name keeps its table after a glossary PUT, through /v1/ask', async () => {
    expect((await apply('refresh')).status).toBe(200)
    const before = await tablesFor('打铁关')
    expect(before.events).toContain('sql')
    expect(before.tables).toContain('stations')
    const glossary = await apply('glossary')
    expect(glossary.status).toBe(200)
    for (const question of ['打铁关', '湘湖', '婺江路']) {
      const after = await tablesFor(question)
      expect(after.events, question).not.toContain('unanswerable')
      expect(after.tables, question).toContain('stations')
    }
    // The meta event names the new version: anything keyed by it sees the glossary.
    const events = await readEvents((await ask({ question: '打铁关' }, ADMIN)).body!)
    expect(events[0]!.data.schema_version).toBe(glossary.version)
  })

  it('the refresh right after a glossary PUT of an unchanged database reports nothing changed', async () => {
    const first = await apply('refresh')
    const glossary = await apply('glossary')
    expect(glossary.version).not.toBe(first.version)
    const again = await apply('refresh')
    expect(again).toEqual({ status: 200, version: glossary.version, changed: false })
    const health = (await (await call('/healthz', {}, ADMIN)).json()) as { schema_version: string }
    expect(health.schema_version).toBe(glossary.version)
  })

  it('an uploaded snapshot keeps its label as the root of its version, and a glossary change moves it', async () => {
    const upload = await call('/v1/admin/schema', { method: 'PUT', headers: auth, body: JSON.stringify({ ...demoSnapshot, version: 'curated-7' }) }, ADMIN)
    expect(await upload.json()).toMatchObject({ version: 'curated-7' })
    const synonymsBefore = JSON.stringify(linkIndexFor(await current()).postings)
    const glossary = await apply('glossary')
    expect(glossary.version).toMatch(/^curated-7\+[0-9a-f]{8}$/)
    const other = await apply('other glossary')
    expect(other.version).toMatch(/^curated-7\+[0-9a-f]{8}$/)
    expect(other.version).not.toBe(glossary.version)
    // The upload's index (built with the synonym table) is kept, not rebuilt without it.
    expect(JSON.stringify(linkIndexFor(await freshIsolate()).postings)).toBe(synonymsBefore)
  })
})

function contentOf(s: Snapshot): unknown {
  const { version: _v, refreshed_at: _r, ...content } = s
  return content
}
