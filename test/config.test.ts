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

  it('DB_ROLE_URLS: one login per role of DB_ROLES, all of them and no other, errors naming the role and never the URL', () => {
    const urls = { analyst: 'postgres://analyst:secret-a@db/sales', sales_rep: 'postgresql://sales_rep:secret-s@db/sales' }
    const config = readConfig({ ...env, DB_ROLES: 'analyst,sales_rep', DB_ROLE_URLS: JSON.stringify(urls) })
    expect(Object.fromEntries(config.sql.roleUrls!)).toEqual(urls)
    expect(readConfig({ ...env, DB_ROLES: 'analyst', DB_ROLE_URLS: ' ' }).sql.roleUrls).toBeUndefined()
    const refused = (value: string, roles = 'analyst,sales_rep') => {
      try {
        readConfig({ ...env, DB_ROLES: roles, DB_ROLE_URLS: value })
      } catch (err) {
        expect(err).toBeInstanceOf(AppError)
        expect((err as AppError).code).toBe('server_misconfigured')
        expect((err as AppError).message).not.toContain('secret-')
        return (err as AppError).message
      }
      throw new Error('accepted')
    }
    expect(refused('postgres://analyst:secret-a@db/sales')).toMatch(/must be a JSON object/)
    expect(refused('["postgres://x:secret-x@db/sales"]')).toMatch(/must be a JSON object/)
    expect(refused(JSON.stringify({ analyst: urls.analyst }))).toBe('DB_ROLE_URLS has no login for "sales_rep" of DB_ROLES')
    expect(refused(JSON.stringify({ ...urls, postgres: 'postgres://postgres:secret-p@db/sales' }))).toBe('DB_ROLE_URLS names "postgres", which is not in DB_ROLES')
    expect(refused(JSON.stringify({ ...urls, analyst: 'mysql://analyst:secret-a@db/sales' }))).toBe('DB_ROLE_URLS: the login of "analyst" must be a postgres:// connection string')
    expect(refused(JSON.stringify({ ...urls, analyst: 42 }))).toMatch(/must be a postgres:\/\/ connection string/)
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
