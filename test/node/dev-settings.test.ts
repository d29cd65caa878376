import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { overridesFrom, settingNames } from '../../scripts/dev/settings.mjs'
import { HYPERDRIVE_BINDINGS } from '../../src/database-bindings'
import { SECRET_NAMES } from '../../src/secret-names'
import { startDevServer, type DevServer } from './dev-server'

const root = join(import.meta.dirname, '..', '..')
const names: string[] = settingNames(root)

/** Every `env.NAME` the worker's code reads (bindings are not settings). */
function namesReadBySource(): Set<string> {
  const found = new Set<string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g)) found.add(m[1]!)
    }
  }
  walk(join(root, 'src'))
  for (const binding of bindingNames()) found.delete(binding)
  return found
}

/** wrangler.toml's bindings (KV, rate limiters, Durable Objects, static assets) and the Hyperdrive ones a derived configuration adds: not settings. */
function bindingNames(): string[] {
  const config = parse(readFileSync(join(root, 'wrangler.toml'), 'utf8')) as {
    assets?: { binding?: string }
    kv_namespaces?: { binding: string }[]
    ratelimits?: { name: string }[]
    durable_objects?: { bindings?: { name: string }[] }
  }
  return [...(config.assets?.binding ? [config.assets.binding] : []), ...(config.kv_namespaces ?? []).map((b) => b.binding), ...(config.ratelimits ?? []).map((b) => b.name), ...(config.durable_objects?.bindings ?? []).map((b) => b.name), ...HYPERDRIVE_BINDINGS]
}

describe('every setting can be overridden from the environment by npm start', () => {
  it('takes the names from wrangler.toml [vars] and the declared secrets, and nowhere else', () => {
    const vars = Object.keys((parse(readFileSync(join(root, 'wrangler.toml'), 'utf8')) as { vars?: Record<string, string> }).vars ?? {})
    expect(vars.length).toBeGreaterThan(30)
    expect(new Set(names)).toEqual(new Set([...vars, ...SECRET_NAMES]))
  })

  it('knows every name the worker reads from its environment', () => {
    const missing = [...namesReadBySource()].filter((n) => !names.includes(n))
    expect(missing).toEqual([])
  })

  it('passes each of them, and only them, from the environment', () => {
    const env = Object.fromEntries([...names.map((n) => [n, `value-of-${n}`]), ['PATH', '/bin'], ['HOME', '/root']])
    expect(overridesFrom(env, names)).toEqual(Object.fromEntries(names.map((n) => [n, `value-of-${n}`])))
  })

  it('documents each of them in the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(names.filter((n) => !readme.includes(`\`${n}\``))).toEqual([])
  })

  it('documents the Hyperdrive bindings the worker reads in the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(HYPERDRIVE_BINDINGS.filter((n) => !readme.includes(`\`${n}\``))).toEqual([])
  })
})

describe('npm start with settings from the environment', () => {
  let server: DevServer
  beforeAll(async () => {
    server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined, DATABASE_URL: undefined, NEON_WS_PROXY: undefined, SQL_EXECUTE: 'false', MAX_QUESTION_CHARS: '12' })
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('an explicit SQL_EXECUTE=false wins over the demo database\'s default of runs on', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ ok: true, execute: false })
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息', execute: true }) })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('execute_not_allowed')
    expect(server.output()).toContain('runs are off: SQL_EXECUTE')
  })

  it('limits questions to MAX_QUESTION_CHARS from the environment', async () => {
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息和它的所有线路' }) })
    expect(res.status).toBe(400)
    await res.arrayBuffer()
  })

  it('prints its try-this banner only after the schema cache is filled', () => {
    const out = server.output()
    expect(out.indexOf('[dev] schema cache: pg-')).toBeGreaterThan(-1)
    expect(out.indexOf('is ready on')).toBeGreaterThan(out.indexOf('[dev] schema cache: pg-'))
  })
})
