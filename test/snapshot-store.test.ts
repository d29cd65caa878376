import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { AppError } from '../src/errors'
import { createSnapshotCache } from '../src/schema/snapshot-cache'
import { BODY_PREFIX, POINTER_KEY, deleteSnapshot, readPointerFrom, readStoredSnapshot, saveSnapshot } from '../src/schema/snapshot-store'
import type { Snapshot } from '../src/schema/snapshot-schema'

const kv = env.SCHEMA_KV
// What a fresh isolate reads from KV (the isolate that writes holds what it wrote: snapshot-cache.test.ts).
const load = () => createSnapshotCache(readStoredSnapshot).load(kv, { cacheTtlSeconds: 0 })

// The store keeps a per-isolate cache keyed by content: every test saves content of its own.
let run = 0
const unique = (label: string) => `${label}-${Date.now()}-${++run}`

function small(version: string): Snapshot {
  return {
    version,
    source: 'upload',
    dialect: 'postgresql',
    tables: [
      {
        schema: 'public',
        name: 'stations',
        kind: 'table',
        comment: '地铁站点',
        columns: [
          { name: 'id', type: 'integer', nullable: false },
          { name: 'name', type: 'character varying(64)', comment: '站点名称', samples: ['沈塘桥', '武林广场'] },
        ],
        primary_key: ['id'],
      },
      { schema: 'public', name: 'station_totals', kind: 'view', comment: '各站合计', columns: [{ name: 'id', type: 'integer' }] },
    ],
    examples: [{ question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name = '沈塘桥'" }],
  }
}

/** 300 tables × 30 columns with Chinese comments: several 1000-byte parts even gzip-compressed. */
function big(version: string): Snapshot {
  return {
    version,
    source: 'introspection',
    dialect: 'postgresql',
    tables: Array.from({ length: 300 }, (_, t) => ({
      schema: t % 3 ? 'public' : 'sales',
      name: `表_${t}`,
      kind: 'table' as const,
      comment: `第${t}张业务表：地铁客流与票务统计（${version}）`,
      row_estimate: t * 17,
      columns: Array.from({ length: 30 }, (_, c) => ({
        name: `列_${c}`,
        type: c % 2 ? 'integer' : 'text',
        nullable: c > 0,
        comment: `第${t}表第${c}列：站点名称、线路编号或进站人次`,
        ...(c % 5 === 0 ? { samples: [`样本${t}-${c}`, '沈塘桥', '武林广场'] } : {}),
      })),
      primary_key: ['列_0'],
    })),
    examples: [{ question: '各线路站点数', sql: 'SELECT line_id, count(*) FROM station_lines GROUP BY 1' }],
  }
}

async function bodyKeys(): Promise<string[]> {
  const list = await kv.list({ prefix: BODY_PREFIX })
  return list.keys.map((k) => k.name).sort()
}

const partsOf = (body: string, parts: number) => Array.from({ length: parts }, (_, i) => `${BODY_PREFIX}${body}:${i}`)

beforeEach(() => deleteSnapshot(kv))

describe('saveSnapshot then loadSnapshot', () => {
  it('round-trips a snapshot; refreshed_at is kept in the pointer, not in the loaded snapshot', async () => {
    const snapshot = small(unique('small'))
    const { pointer, changed } = await saveSnapshot(kv, { ...snapshot, refreshed_at: '2020-01-01T00:00:00.000Z' }, { refreshedAt: '2024-05-06T07:08:09.000Z' })
    expect(changed).toBe(true)
    expect(pointer).toMatchObject({ version: snapshot.version, encoding: 'gzip', parts: 1, tables: 1, views: 1, columns: 3, examples: 1, source: 'upload', refreshed_at: '2024-05-06T07:08:09.000Z' })
    expect(pointer.body).toMatch(/^[0-9a-f]{16}$/)
    expect(pointer.previous).toBeUndefined()
    const loaded = await load()
    expect(loaded).toEqual(snapshot)
    expect(loaded).not.toHaveProperty('refreshed_at')
    expect(await readPointerFrom(kv)).toEqual(pointer)
    expect(await bodyKeys()).toEqual(partsOf(pointer.body, 1))
  })

  it('splits a big snapshot into several gzip parts and loads it back identically', async () => {
    const snapshot = big(unique('big'))
    const { pointer } = await saveSnapshot(kv, snapshot, { partBytes: 1000 })
    expect(pointer.parts).toBeGreaterThan(1)
    expect(pointer.stored_bytes).toBeLessThan(pointer.bytes)
    expect(pointer.parts).toBe(Math.ceil(pointer.stored_bytes / 1000))
    expect(pointer).toMatchObject({ tables: 300, views: 0, columns: 9000, examples: 1 })
    expect(pointer.bytes).toBe(new TextEncoder().encode(JSON.stringify(snapshot)).byteLength)
    expect(await bodyKeys()).toEqual(partsOf(pointer.body, pointer.parts).sort())
    for (const key of partsOf(pointer.body, pointer.parts)) {
      const part = await kv.get(key, 'arrayBuffer')
      expect(part!.byteLength).toBeLessThanOrEqual(1000)
    }
    expect(await load()).toEqual(snapshot)
  })

  it('stores the same content under the same body id, whatever its refreshed_at', async () => {
    const version = unique('same')
    const first = await saveSnapshot(kv, { ...small(version), refreshed_at: 'a' })
    await deleteSnapshot(kv)
    const second = await saveSnapshot(kv, { ...small(version), refreshed_at: 'b' })
    expect(second.pointer.body).toBe(first.pointer.body)
  })
})

describe('saving again', () => {
  it('with identical content reports changed:false, keeps the body and moves only refreshed_at', async () => {
    const snapshot = big(unique('again'))
    const first = await saveSnapshot(kv, snapshot, { partBytes: 1000, refreshedAt: '2024-01-01T00:00:00.000Z' })
    const keys = await bodyKeys()
    const second = await saveSnapshot(kv, snapshot, { partBytes: 1000, refreshedAt: '2024-02-02T00:00:00.000Z' })
    expect(second.changed).toBe(false)
    expect(second.pointer).toEqual({ ...first.pointer, refreshed_at: '2024-02-02T00:00:00.000Z' })
    expect(await readPointerFrom(kv)).toEqual(second.pointer)
    expect(await bodyKeys()).toEqual(keys)
    expect(await load()).toEqual(snapshot)
  })

  it('keeps the previous body after one change and deletes it after the next', async () => {
    const a = await saveSnapshot(kv, big(unique('A')), { partBytes: 1000 })
    const b = await saveSnapshot(kv, big(unique('B')), { partBytes: 1000 })
    expect(b.changed).toBe(true)
    expect(b.pointer.previous).toEqual({ body: a.pointer.body, parts: a.pointer.parts })
    expect(await bodyKeys()).toEqual([...partsOf(a.pointer.body, a.pointer.parts), ...partsOf(b.pointer.body, b.pointer.parts)].sort())

    const cSnapshot = small(unique('C'))
    const c = await saveSnapshot(kv, cSnapshot, { partBytes: 1000 })
    expect(c.pointer.previous).toEqual({ body: b.pointer.body, parts: b.pointer.parts })
    expect(await bodyKeys()).toEqual([...partsOf(b.pointer.body, b.pointer.parts), ...partsOf(c.pointer.body, c.pointer.parts)].sort())
    expect(await load()).toEqual(cSnapshot)
  })

  it('back to the previous content (A, B, A) keeps the body it moves to', async () => {
    const aSnapshot = small(unique('A'))
    const a = await saveSnapshot(kv, aSnapshot)
    const b = await saveSnapshot(kv, small(unique('B')))
    const again = await saveSnapshot(kv, aSnapshot)
    expect(again.changed).toBe(true)
    expect(again.pointer.body).toBe(a.pointer.body)
    expect(again.pointer.previous).toEqual({ body: b.pointer.body, parts: 1 })
    expect(await bodyKeys()).toEqual([...partsOf(a.pointer.body, 1), ...partsOf(b.pointer.body, 1)].sort())
    expect(await load()).toEqual(aSnapshot)
  })
})

describe('loadSnapshot when KV is incomplete', () => {
  it("falls back to the previous body while the new body's parts are missing", async () => {
    const aSnapshot = big(unique('A'))
    await saveSnapshot(kv, aSnapshot, { partBytes: 1000 })
    const b = await saveSnapshot(kv, big(unique('B')), { partBytes: 1000 })
    await kv.delete(partsOf(b.pointer.body, b.pointer.parts)[1]!)
    expect(await load()).toEqual(aSnapshot)
  })

  it('is 503 schema_unavailable (retryable) when neither body can be read', async () => {
    await saveSnapshot(kv, small(unique('A')))
    const b = await saveSnapshot(kv, small(unique('B')))
    await kv.delete(partsOf(b.pointer.body, 1)[0]!)
    await kv.delete(partsOf(b.pointer.previous!.body, 1)[0]!)
    const err = await load().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect(err).toMatchObject({ status: 503, code: 'schema_unavailable', retryable: true })
  })

  it('is 503 schema_unavailable without a pointer', async () => {
    const err = await load().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect(err).toMatchObject({ status: 503, code: 'schema_unavailable' })
    expect((err as AppError).message).toMatch(/No schema snapshot is cached yet/)
  })

  it('is 503 schema_unavailable for a pointer that is not a pointer', async () => {
    await kv.put(POINTER_KEY, '{"nope":true}')
    await expect(load()).rejects.toMatchObject({ status: 503, code: 'schema_unavailable' })
  })
})

describe('deleteSnapshot', () => {
  it('removes the pointer, the current body and the previous body', async () => {
    await saveSnapshot(kv, big(unique('A')), { partBytes: 1000 })
    await saveSnapshot(kv, big(unique('B')), { partBytes: 1000 })
    expect((await bodyKeys()).length).toBeGreaterThan(2)
    await deleteSnapshot(kv)
    expect(await kv.get(POINTER_KEY)).toBeNull()
    expect(await readPointerFrom(kv)).toBeNull()
    expect(await bodyKeys()).toEqual([])
    await expect(load()).rejects.toMatchObject({ status: 503, code: 'schema_unavailable' })
  })

  it('does nothing when there is no snapshot', async () => {
    await deleteSnapshot(kv)
    expect(await bodyKeys()).toEqual([])
  })
})
