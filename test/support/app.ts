import { env } from 'cloudflare:workers'
import { inject } from 'vitest'
import { app } from '../../src/app'
import { deleteSnapshot, saveSnapshot } from '../../src/schema/snapshot-store'
import { demoSnapshot } from '../../src/demo/metro-snapshot'
import { GLOSSARY_KEY } from '../../src/schema/glossary'
import { OVERLAY_KEY } from '../../src/schema/overlay'
import { LAST_REFRESH_KEY } from '../../src/schema/refresh'
import { testHyperdriveBinding } from '../setup/test-hyperdrives'

export const TEST_KEY = 'test-key'

/** The fake DashScope's base URL, optionally with misbehaviour options (`/s/<options>`). */
export function fakeUrl(options?: string): string {
  const base = inject('fakeDashScopeUrl')
  return options ? `${base}/s/${options}` : base
}

/** Settings (strings) and bindings (a Hyperdrive binding on that way) laid over the test bindings. */
export type Overrides = Record<string, unknown>

/** Calls the real app in workerd with the test bindings plus overrides (real local KV). */
export function call(path: string, init: RequestInit = {}, overrides: Overrides = {}): Promise<Response> {
  const bindings = { ...env, DASHSCOPE_API_KEY: TEST_KEY, DASHSCOPE_BASE_URL: fakeUrl(), ...overrides }
  return Promise.resolve(app.request(`http://edge.test${path}`, init, bindings))
}

export function ask(body: unknown, overrides: Overrides = {}, headers: Record<string, string> = {}) {
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

/**
 * The way this test project reaches the databases (vitest.config.ts): the Neon driver through the
 * local WebSocket relay, or node-postgres through real (Miniflare) Hyperdrive bindings.
 */
export const databaseWay = (): 'neon' | 'hyperdrive' => inject('databaseWay') ?? 'neon'

/** Bindings that point the worker at one of the test databases (see test/setup/databases.ts), the project's way. */
export function dbEnv(name: string, extra: Record<string, string> = {}): Overrides {
  const { urls, wsProxy } = inject('databases')
  const url = urls[name]
  if (!url) throw new Error(`no test database ${name}`)
  if (databaseWay() === 'hyperdrive') return { HYPERDRIVE: testHyperdrive(name), ...extra }
  return { DATABASE_URL: url, NEON_WS_PROXY: wsProxy, ...extra }
}

/** As dbEnv(name), with the read-only role's connection (DATABASE_URL_READONLY, HYPERDRIVE_READONLY) to `readonlyName`. */
export function dbEnvWithReadonly(name: string, readonlyName: string, extra: Record<string, string> = {}): Overrides {
  if (databaseWay() === 'hyperdrive') return { ...dbEnv(name, extra), HYPERDRIVE_READONLY: testHyperdrive(readonlyName) }
  return { ...dbEnv(name, extra), DATABASE_URL_READONLY: inject('databases').urls[readonlyName] }
}

function testHyperdrive(name: string): Hyperdrive {
  const binding = (env as unknown as Record<string, Hyperdrive | undefined>)[testHyperdriveBinding(name)]
  if (!binding) throw new Error(`no Hyperdrive binding for test database ${name}`)
  return binding
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
