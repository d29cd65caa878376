import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import questions from '../eval/questions/metro-zh.json'
import { dbEnv } from './support/app'

type Question = { id: string; category: string; lang: string; question: string; sql: string | null }
const set = questions as Question[]

describe('the Chinese question set of the demo metro database (eval/questions/metro-zh.json)', () => {
  it('has 60+ questions across lookups, joins, aggregates, dates and cannot-answer cases, with unique ids', () => {
    expect(set.length).toBeGreaterThanOrEqual(60)
    expect(new Set(set.map((q) => q.id)).size).toBe(set.length)
    const count = (c: string) => set.filter((q) => q.category === c).length
    for (const c of ['lookup', 'join', 'aggregate', 'date']) expect(count(c)).toBeGreaterThanOrEqual(8)
    expect(count('unanswerable')).toBeGreaterThanOrEqual(8)
    expect(set.filter((q) => q.category === 'unanswerable').every((q) => q.sql === null)).toBe(true)
    expect(set.filter((q) => q.category !== 'unanswerable').every((q) => typeof q.sql === 'string')).toBe(true)
    expect(set.filter((q) => q.lang === 'zh').length).toBeGreaterThanOrEqual(50)
  })

  it('every gold SQL runs read-only against the demo database loaded from db/demo/metro.sql and returns rows', async () => {
    const failures: string[] = []
    await withDb(
      readConfig({ ...env, ...dbEnv('metro') }).database,
      async (db) => {
        for (const q of set) {
          if (q.sql === null) continue
          await db.batch('BEGIN READ ONLY')
          try {
            const rows = await db.query(q.sql)
            if (rows.length === 0) failures.push(`${q.id} ${q.question}: no rows`)
          } catch (err) {
            failures.push(`${q.id} ${q.question}: ${(err as Error).message}`)
          } finally {
            await db.batch('ROLLBACK')
          }
        }
      },
      60_000,
    )
    expect(failures).toEqual([])
  })
})
