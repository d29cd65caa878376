import { DurableObject } from 'cloudflare:workers'
import type { CachedAnswer } from './cached-answer'

type Entry = { answer: CachedAnswer; expires: number }

/**
 * One cached answer, in the Durable Object named by its cache key (src/cache/cache-key.ts): every
 * isolate in every location reaches the same object, so a stored answer is seen at once
 * everywhere and an eviction (a `wrong` feedback) holds everywhere at once — which neither the Cache
 * API (per data centre, inactive on *.workers.dev) nor KV (eventually consistent) gives
 * (docs/SNAPSHOT.md, "The answer cache"). An alarm deletes the entry when its TTL ends.
 */
export class AnswerCache extends DurableObject {
  async lookup(now: number): Promise<CachedAnswer | null> {
    const entry = await this.ctx.storage.get<Entry>('entry')
    return entry && entry.expires > now ? entry.answer : null
  }

  async store(answer: CachedAnswer, ttlSeconds: number): Promise<void> {
    const expires = Date.now() + ttlSeconds * 1000
    await this.ctx.storage.put('entry', { answer, expires } satisfies Entry)
    await this.ctx.storage.setAlarm(expires)
  }

  async evict(): Promise<void> {
    await this.ctx.storage.deleteAll()
  }

  override async alarm(): Promise<void> {
    const entry = await this.ctx.storage.get<Entry>('entry')
    if (!entry || entry.expires <= Date.now()) await this.ctx.storage.deleteAll()
    else await this.ctx.storage.setAlarm(entry.expires)
  }
}
