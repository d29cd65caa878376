import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { AppError } from '../src/errors'

describe('configuration', () => {
  it('takes its defaults from wrangler.toml', () => {
    const config = readConfig(env)
    expect(config.dashscope).toEqual({ apiKey: undefined, baseUrl: 'https://dashscope.aliyuncs.com', model: 'qwen-plus', protocol: 'native', enableThinking: false })
    expect(config).toMatchObject({ upstreamIdleTimeoutMs: 60_000, heartbeatIntervalMs: 15_000, maxBodyBytes: 65_536, maxQuestionChars: 2000, maxHistoryTurns: 10, apiKeys: [], corsOrigins: [] })
  })

  it('splits key lists, trims values and drops a trailing slash of the base URL', () => {
    const config = readConfig({ ...env, API_KEYS: ' a , b,,c ', DASHSCOPE_BASE_URL: 'https://dashscope-intl.aliyuncs.com/', DASHSCOPE_API_KEY: '  ' })
    expect(config.apiKeys).toEqual(['a', 'b', 'c'])
    expect(config.dashscope.baseUrl).toBe('https://dashscope-intl.aliyuncs.com')
    expect(config.dashscope.apiKey).toBeUndefined()
  })

  it('refuses a misconfigured protocol or limit loudly, as an operator error', () => {
    expect(() => readConfig({ ...env, DASHSCOPE_PROTOCOL: 'grpc' })).toThrow(AppError)
    expect(() => readConfig({ ...env, MAX_BODY_BYTES: '64k' })).toThrow(/MAX_BODY_BYTES/)
  })

  it('reaches the database with the Neon driver and DATABASE_URL (DATABASE_URL_READONLY for model SQL) by default', () => {
    const config = readConfig({ ...env, DATABASE_URL: 'postgres://owner@db/app', DATABASE_URL_READONLY: 'postgres://reader@db/app' })
    expect(config.database).toMatchObject({ driver: 'neon', url: 'postgres://owner@db/app' })
    expect(config.sql.url).toBe('postgres://reader@db/app')
  })

  it('goes the Hyperdrive way when a HYPERDRIVE binding is present, whatever DATABASE_URL says', () => {
    const binding = (connectionString: string) => ({ connectionString }) as Hyperdrive
    const one = readConfig({ ...env, DATABASE_URL: 'postgres://owner@ep-x.neon.tech/app', HYPERDRIVE: binding('postgres://u:p@abc.hyperdrive.local:5432/app') })
    expect(one.database).toMatchObject({ driver: 'hyperdrive', url: 'postgres://u:p@abc.hyperdrive.local:5432/app' })
    expect(one.sql.url).toBe('postgres://u:p@abc.hyperdrive.local:5432/app')
    const two = readConfig({ ...env, HYPERDRIVE: binding('postgres://u:p@abc.hyperdrive.local:5432/app'), HYPERDRIVE_READONLY: binding('postgres://ro:p@def.hyperdrive.local:5432/app') })
    expect(two.sql.url).toBe('postgres://ro:p@def.hyperdrive.local:5432/app')
    expect(() => readConfig({ ...env, HYPERDRIVE_READONLY: binding('postgres://ro:p@def.hyperdrive.local:5432/app') })).toThrow(/HYPERDRIVE_READONLY binding needs a HYPERDRIVE binding/)
  })
})
