import { env } from 'cloudflare:workers'
import { inject } from 'vitest'
import { app } from '../../src/app'
import { SNAPSHOT_KEY } from '../../src/schema/snapshot-store'
import { demoSnapshot } from '../../src/demo/metro-snapshot'

export const TEST_KEY = 'test-key'

/** The fake DashScope's base URL, optionally with misbehaviour options (`/s/<options>`). */
export function fakeUrl(options?: string): string {
  const base = inject('fakeDashScopeUrl')
  return options ? `${base}/s/${options}` : base
}

/** Calls the real app in workerd with the test bindings plus overrides (real local KV). */
export function call(path: string, init: RequestInit = {}, overrides: Record<string, string | undefined> = {}): Promise<Response> {
  const bindings = { ...env, DASHSCOPE_API_KEY: TEST_KEY, DASHSCOPE_BASE_URL: fakeUrl(), ...overrides }
  return Promise.resolve(app.request(`http://edge.test${path}`, init, bindings))
}

export function ask(body: unknown, overrides: Record<string, string | undefined> = {}, headers: Record<string, string> = {}) {
  return call(
    '/v1/ask',
    { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) },
    overrides,
  )
}

export async function putDemoSnapshot(): Promise<void> {
  await env.SCHEMA_KV.put(SNAPSHOT_KEY, JSON.stringify(demoSnapshot))
}

export async function clearSnapshot(): Promise<void> {
  await env.SCHEMA_KV.delete(SNAPSHOT_KEY)
}

export async function fakeRecord(tag: string): Promise<{ seen: boolean; closed_early: boolean; completed: boolean; events_sent: number; body: any }> {
  const res = await fetch(`${inject('fakeDashScopeUrl')}/__fake/requests/${tag}`)
  return res.json()
}

/** The fake's record of a tagged request once it saw the client leave (or after ~2.5 s). */
export async function fakeRecordAfterClose(tag: string): ReturnType<typeof fakeRecord> {
  let record = await fakeRecord(tag)
  for (let i = 0; i < 50 && !record.closed_early; i++) {
    await new Promise((r) => setTimeout(r, 50))
    record = await fakeRecord(tag)
  }
  return record
}
