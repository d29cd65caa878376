import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { app } from '../src/app'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { AppError } from '../src/errors'
import { createSnapshotCache } from '../src/schema/snapshot-cache'
import type { Snapshot } from '../src/schema/snapshot-schema'
import { POINTER_KEY, deleteSnapshot, isolateSnapshots, readStoredSnapshot, saveSnapshot } from '../src/schema/snapshot-store'
import { TEST_KEY, fakeUrl } from './support/app'
import { readEvents } from './support/streams'

const kv = env.SCHEMA_KV
const TTL = 60
const TTL_MS = TTL * 1000

/** The KV binding as the worker sees it, counting every read (gets, lists). */
function countingKv(inner: KVNamespace = kv): { kv: KVNamespace; reads: () => number; fail: (on: boolean) => void } {
  let reads = 0
  let failing = false
  const wrapped = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      if (prop === 'get' || prop === 'getWithMetadata' || prop === 'list') {
        return (...args: unknown[]) => {
          reads++
          if (failing) return Promise.reject(new Error('KV is unreachable'))
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
      return (value as (...a: unknown[]) => unknown).bind(target)
    },
  })
  return { kv: wrapped, reads: () => reads, fail: (on) => (failing = on) }
}

let run = 0
function snapshotNamed(label: string): Snapshot {
  return { ...demoSnapshot, version: `${label}-${Date.now()}-${++run}` }
}

function askWith(schemaKv: KVNamespace, question = '沈塘桥地铁站的信息'): Promise<Response> {
  const bindings = { ...env, DASHSCOPE_API_KEY: TEST_KEY, DASHSCOPE_BASE_URL: fakeUrl(), SCHEMA_KV: schemaKv }
  return Promise.resolve(app.request('http://edge.test/v1/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) }, bindings))
}

async function versionAnswered(res: Response): Promise<string> {
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  expect(events.at(-1)!.event).toBe('done')
  return events[0]!.data.schema_version as string
}

/** Another isolate's cache, on a clock the test moves. */
function otherIsolate() {
  let at = 1_000_000
  const counted = countingKv()
  const cache = createSnapshotCache(readStoredSnapshot, () => at)
  const pending: Promise<unknown>[] = []
  const load = () => cache.load(counted.kv, { cacheTtlSeconds: TTL, background: (work) => pending.push(work) })
  return {
    ...counted,
    load,
    advance: (ms: number) => (at += ms),
    settle: () => Promise.all(pending.splice(0)),
  }
}

beforeEach(() => deleteSnapshot(kv))

describe('the snapshot held in the isolate (route level)', () => {
  it('a warm question reads nothing from KV', async () => {
    const snapshot = snapshotNamed('warm')
    await saveSnapshot(kv, snapshot)
    const counted = countingKv()
    for (let i = 0; i < 3; i++) expect(await versionAnswered(await askWith(counted.kv))).toBe(snapshot.version)
    expect(counted.reads()).toBe(0)
  })

  it('a cold isolate reads the pointer and the body once, then nothing', async () => {
    const snapshot = snapshotNamed('cold')
    await saveSnapshot(kv, snapshot)
    isolateSnapshots.forget()
    const counted = countingKv()
    expect(await versionAnswered(await askWith(counted.kv))).toBe(snapshot.version)
    const coldReads = counted.reads()
    expect(coldReads).toBe(2) // the pointer and the one body part
    expect(await versionAnswered(await askWith(counted.kv))).toBe(snapshot.version)
    expect(counted.reads()).toBe(coldReads)
  })

  it('an upload through PUT /v1/admin/schema is answered at once by the isolate that took it', async () => {
    await saveSnapshot(kv, snapshotNamed('before'))
    const counted = countingKv()
    expect(await versionAnswered(await askWith(counted.kv))).toMatch(/^before-/)
    const uploaded = snapshotNamed('uploaded')
    const bindings = { ...env, ADMIN_TOKEN: 'admin-secret', SCHEMA_KV: counted.kv }
    const put = await app.request('http://edge.test/v1/admin/schema', { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer admin-secret' }, body: JSON.stringify(uploaded) }, bindings)
    expect(put.status).toBe(200)
    const readsAfterPut = counted.reads()
    expect(await versionAnswered(await askWith(counted.kv))).toBe(uploaded.version)
    expect(counted.reads()).toBe(readsAfterPut)
  })

  it('a deleted snapshot is gone at once in the isolate that deleted it', async () => {
    await saveSnapshot(kv, snapshotNamed('doomed'))
    await deleteSnapshot(kv)
    const res = await askWith(kv)
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('schema_unavailable')
  })
})

describe('another isolate sees a write within SCHEMA_CACHE_TTL_SECONDS', () => {
  it('serves what it holds without reading for TTL/2, checks in the background until TTL, then serves the new snapshot', async () => {
    const first = snapshotNamed('first')
    await saveSnapshot(kv, first)
    const other = otherIsolate()
    expect((await other.load()).version).toBe(first.version)
    expect(other.reads()).toBe(2)

    const second = snapshotNamed('second')
    await saveSnapshot(kv, second) // written elsewhere: this isolate does not know
    other.advance(TTL_MS / 2 - 1)
    expect((await other.load()).version).toBe(first.version)
    expect(other.reads()).toBe(2)

    other.advance(1) // TTL/2: the question is answered at once with what is held; one check starts
    expect((await other.load()).version).toBe(first.version)
    expect((await other.load()).version).toBe(first.version) // a second question joins the same check
    await other.settle()
    expect(other.reads()).toBe(4) // one pointer, one body part
    expect((await other.load()).version).toBe(second.version)
    expect(other.reads()).toBe(4)
  })

  it('an isolate idle for a whole TTL checks before answering, so it never serves a snapshot older than the TTL', async () => {
    const first = snapshotNamed('first')
    await saveSnapshot(kv, first)
    const other = otherIsolate()
    await other.load()
    const second = snapshotNamed('second')
    await saveSnapshot(kv, second)
    other.advance(TTL_MS)
    expect((await other.load()).version).toBe(second.version)
  })

  it('an unchanged pointer costs one small read per check, never the body again', async () => {
    await saveSnapshot(kv, snapshotNamed('same'))
    const other = otherIsolate()
    await other.load()
    const cold = other.reads()
    other.advance(TTL_MS)
    await other.load()
    expect(other.reads()).toBe(cold + 1)
  })

  it('a deleted snapshot is dropped by the next check', async () => {
    await saveSnapshot(kv, snapshotNamed('deleted'))
    const other = otherIsolate()
    await other.load()
    await deleteSnapshot(kv)
    other.advance(TTL_MS)
    const err = await other.load().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect(err).toMatchObject({ status: 503, code: 'schema_unavailable' })
  })
})

describe('a failed check keeps the held snapshot', () => {
  it('when KV fails: the old snapshot serves, and the check is retried no sooner than TTL/2 later', async () => {
    const first = snapshotNamed('first')
    await saveSnapshot(kv, first)
    const other = otherIsolate()
    await other.load()
    await saveSnapshot(kv, snapshotNamed('second'))
    other.fail(true)
    other.advance(TTL_MS / 2)
    expect((await other.load()).version).toBe(first.version)
    await other.settle()
    const afterFailure = other.reads()
    expect(afterFailure).toBe(3)

    other.advance(TTL_MS / 2 - 1) // the TTL is nearly over, KV still down: answered, not re-read yet
    expect((await other.load()).version).toBe(first.version)
    expect(other.reads()).toBe(afterFailure)

    other.fail(false)
    other.advance(1) // TTL/2 after the failed check: checked again (in the foreground: the TTL is over)
    expect((await other.load()).version).not.toBe(first.version)
    expect(other.reads()).toBe(afterFailure + 2)
  })

  it('when KV fails in an isolate idle past the TTL: the old snapshot answers instead of an error', async () => {
    const first = snapshotNamed('first')
    await saveSnapshot(kv, first)
    const other = otherIsolate()
    await other.load()
    other.fail(true)
    other.advance(10 * TTL_MS)
    expect((await other.load()).version).toBe(first.version)
  })

  it('when the new pointer is unreadable: the old snapshot serves', async () => {
    const first = snapshotNamed('first')
    await saveSnapshot(kv, first)
    const other = otherIsolate()
    await other.load()
    await kv.put(POINTER_KEY, '{"nope":true}')
    other.advance(TTL_MS)
    expect((await other.load()).version).toBe(first.version)
  })

  it('a cold isolate with nothing held still reports the failure', async () => {
    await saveSnapshot(kv, snapshotNamed('x'))
    const other = otherIsolate()
    other.fail(true)
    await expect(other.load()).rejects.toThrow('KV is unreachable')
  })
})

describe('SCHEMA_CACHE_TTL_SECONDS = 0 reads through', () => {
  it('checks the pointer on every call', async () => {
    await saveSnapshot(kv, snapshotNamed('through'))
    const counted = countingKv()
    const cache = createSnapshotCache(readStoredSnapshot)
    await cache.load(counted.kv, { cacheTtlSeconds: 0 })
    expect(counted.reads()).toBe(2)
    await cache.load(counted.kv, { cacheTtlSeconds: 0 })
    expect(counted.reads()).toBe(3) // pointer + body, then the pointer alone
  })
})
