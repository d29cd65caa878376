import { AppError } from '../errors'
import type { Snapshot } from './snapshot-schema'

/** What one read of the store found: the pointer's text, the body it names and that body parsed. */
export type StoredSnapshot = { pointerRaw: string; body: string; snapshot: Snapshot }

/**
 * Reads the store. `known` is the snapshot already held: a reader returns it as is when the
 * pointer still names its body, so an unchanged snapshot is never fetched or parsed again.
 * Returns null when no snapshot is stored; throws when one is stored but cannot be read.
 */
export type ReadStoredSnapshot = (kv: KVNamespace, ttlSeconds: number, known: StoredSnapshot | undefined) => Promise<StoredSnapshot | null>

export type LoadOptions = {
  /** SCHEMA_CACHE_TTL_SECONDS; 0 = read KV on every call. */
  cacheTtlSeconds: number
  /** Runs work past the response (`ctx.waitUntil`); without it the work still runs, unawaited. */
  background?: (work: Promise<unknown>) => void
}

export type SnapshotCache = {
  load(kv: KVNamespace, opts: LoadOptions): Promise<Snapshot>
  /** A write in this isolate: its readers see it at once, without waiting for the TTL. */
  hold(stored: StoredSnapshot): void
  forget(): void
  /** What is held, checked or not. */
  peek(): StoredSnapshot | undefined
}

type Held = StoredSnapshot & { checkedAt: number; retryAt: number }

const NOTHING_STORED = 'No schema snapshot is cached yet: upload one (PUT /v1/admin/schema) or refresh from the database (POST /v1/admin/schema/refresh)'

/**
 * The parsed snapshot, kept in the isolate so that a warm question reads no KV at all:
 * - checked less than TTL/2 ago: served as is;
 * - TTL/2..TTL: served as is, and checked once in the background (one check in flight);
 * - TTL or older (an idle isolate): checked before it is served.
 * So every question is answered with a snapshot checked against KV at most TTL ago, and steady
 * traffic never waits for KV. A check that fails (KV error, an unreadable pointer or body) keeps
 * the held snapshot, logs, and is retried no sooner than TTL/2 later; a pointer that is gone
 * (the snapshot was deleted) drops it.
 */
export function createSnapshotCache(read: ReadStoredSnapshot, now: () => number = Date.now): SnapshotCache {
  let held: Held | undefined
  let checking: Promise<Snapshot> | undefined

  const hold = (stored: StoredSnapshot, at: number) => {
    held = { ...stored, checkedAt: at, retryAt: at }
  }

  const check = (kv: KVNamespace, ttlSeconds: number, halfTtlMs: number): Promise<Snapshot> => {
    if (checking) return checking
    const startedAt = now()
    const known = held
    checking = read(kv, ttlSeconds, known)
      .then(
        (stored) => {
          if (stored === null) {
            held = undefined
            // Retryable: right after a start or deploy the first refresh is usually under way.
            throw new AppError(503, 'schema_unavailable', NOTHING_STORED, { retryable: true, retryAfterSeconds: 5 })
          }
          // A write in this isolate during the check is newer than what the check read.
          if (held === known) hold(stored, startedAt)
          return stored.snapshot
        },
        (err: unknown) => {
          if (!held || held !== known) throw err
          held = { ...held, retryAt: startedAt + halfTtlMs }
          console.error(JSON.stringify({ schema_cache: 'check failed, keeping the held snapshot', version: held.snapshot.version, error: err instanceof AppError ? err.code : String(err) }))
          return held.snapshot
        },
      )
      .finally(() => {
        checking = undefined
      })
    return checking
  }

  return {
    async load(kv, { cacheTtlSeconds, background }) {
      const ttlMs = cacheTtlSeconds * 1000
      const at = now()
      if (held && ttlMs > 0) {
        const age = at - held.checkedAt
        const due = at >= held.retryAt
        if (age < ttlMs / 2 || !due) return held.snapshot
        if (age < ttlMs) {
          const snapshot = held.snapshot
          const work = check(kv, cacheTtlSeconds, ttlMs / 2).catch(() => {})
          if (background) background(work)
          return snapshot
        }
      }
      return check(kv, cacheTtlSeconds, ttlMs / 2)
    },
    hold(stored) {
      hold(stored, now())
    },
    forget() {
      held = undefined
    },
    peek() {
      return held
    },
  }
}
