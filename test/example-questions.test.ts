import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { saveSnapshot } from '../src/schema/snapshot-store'
import { call, clearSnapshot } from './support/app'
import { bearer, hsToken, JWT_SECRET } from './support/tokens'

// GET /v1/examples/questions: the example buttons of the playground and <txt2sql-chat>. The demo
// snapshot's approved examples, and roles: `analyst` reads every table, `sales_rep` only stations.
const ROLES = [
  { name: 'analyst', tables: demoSnapshot.tables.map((t) => ({ schema: t.schema, name: t.name })) },
  { name: 'sales_rep', tables: [{ schema: 'public', name: 'stations' }] },
]
const HS = { JWT_SECRET, DB_ROLES: 'analyst,sales_rep', API_KEYS: 'k1' }
const allQuestions = demoSnapshot.examples.map((e) => e.question)

beforeEach(() => saveSnapshot(env.SCHEMA_KV, { ...demoSnapshot, roles: ROLES }))

async function questions(query: string, headers: Record<string, string>, vars: Record<string, string> = HS) {
  const res = await call(`/v1/examples/questions${query}`, { headers }, vars)
  return { status: res.status, body: (await res.json()) as { questions?: string[]; error?: { code: string; message: string } } }
}

describe('GET /v1/examples/questions', () => {
  it('lists the approved examples\' questions in their order, six unless asked for another number', async () => {
    expect(allQuestions.length).toBeGreaterThan(6)
    const six = await questions('', { authorization: 'Bearer k1' })
    expect(six).toEqual({ status: 200, body: { questions: allQuestions.slice(0, 6) } })
    expect((await questions('?limit=2', { authorization: 'Bearer k1' })).body.questions).toEqual(allQuestions.slice(0, 2))
    expect((await questions('?limit=20', { authorization: 'Bearer k1' })).body.questions).toEqual(allQuestions)
  })

  it('gives a JWT caller only questions whose SQL its role may read, and another role its own', async () => {
    const rep = await questions('?limit=20', bearer(await hsToken({ sub: 'bob', role: 'sales_rep' })))
    expect(rep.status).toBe(200)
    const onlyStations = demoSnapshot.examples.filter((e) => !/\b(daily_ridership|station_lines|lines|fares|crk)\b/.test(e.sql)).map((e) => e.question)
    expect(onlyStations.length).toBeGreaterThan(0)
    expect(onlyStations.length).toBeLessThan(allQuestions.length)
    expect(rep.body.questions).toEqual(onlyStations)
    // The same service, the next caller with a wider role: all of them (nothing kept from the first).
    expect((await questions('?limit=20', bearer(await hsToken({ sub: 'alice', role: 'analyst' })))).body.questions).toEqual(allQuestions)
  })

  it('refuses a caller without a key, a role outside DB_ROLES, and a limit that is no whole number from 1 to 20', async () => {
    expect((await questions('', {})).status).toBe(401)
    expect((await questions('', bearer(await hsToken({ sub: 'eve', role: 'postgres' })))).body.error?.code).toBe('role_not_allowed')
    for (const limit of ['0', '21', '-1', '2.5', 'six', '']) {
      const res = await questions(`?limit=${limit}`, { authorization: 'Bearer k1' })
      expect(res.status, limit).toBe(400)
      expect(res.body.error?.code).toBe('invalid_request')
    }
  })

  it('says the schema is not ready (503) on a service with no snapshot yet, and lists none from an approved-less one', async () => {
    await clearSnapshot()
    const none = await questions('', { authorization: 'Bearer k1' })
    expect(none.status).toBe(503)
    expect(none.body.error?.code).toBe('schema_unavailable')
    await saveSnapshot(env.SCHEMA_KV, { ...demoSnapshot, examples: [] })
    expect((await questions('', { authorization: 'Bearer k1' })).body).toEqual({ questions: [] })
  })
})
