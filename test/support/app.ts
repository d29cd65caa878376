import { env } from 'cloudflare:workers'
import { inject } from 'vitest'
import { app } from '../../src/app'
import { deleteSnapshot, saveSnapshot } from '../../src/schema/snapshot-store'
import { demoSnapshot } from '../../src/demo/metro-snapshot'
import { GLOSSARY_KEY } from '../../src/schema/glossary'
import { OVERLAY_KEY } from '../../src/schema/overlay'
import { LAST_REFRESH_KEY } from '../../src/schema/refresh'

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
  await saveSnapshot(env.SCHEMA_KV, demoSnapshot)
}

/** No snapshot, overlay, glossary or refresh record: a service that was never set up. */
export async function clearSnapshot(): Promise<void> {
  await deleteSnapshot(env.SCHEMA_KV)
  await env.SCHEMA_KV.delete(OVERLAY_KEY)
  await env.SCHEMA_KV.delete(GLOSSARY_KEY)
  await env.SCHEMA_KV.delete(LAST_REFRESH_KEY)
}

/** Bindings that point the worker at one of the test databases (see test/setup/databases.ts). */
export function dbEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const { urls, wsProxy } = inject('databases')
  const url = urls[name]
  if (!url) throw new Error(`no test database ${name}`)
  return { DATABASE_URL: url, NEON_WS_PROXY: wsProxy, ...extra }
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
