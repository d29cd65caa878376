import { describe, expect, it } from 'vitest'
import { loadParser, parseSql } from '../src/sql/admission/pg-parser'

describe("Postgres's parser inside workerd", () => {
  it('parses a U& identifier into its plain name and a dollar-quoted string into a constant', async () => {
    await loadParser()
    const parsed = parseSql('SELECT ts_stat($$SELECT 1$$) FROM U&"\\0065mployees"')
    expect(parsed.ok).toBe(true)
    const text = JSON.stringify(parsed.ok && parsed.tree)
    expect(text).toContain('"relname":"employees"')
    expect(text).toContain('"sval":"SELECT 1"')
  })

  it('reports a syntax error with its position counted in characters of the given text from 1, as Postgres counts', async () => {
    await loadParser()
    expect(parseSql("SELECT 'é' FROM WHERE")).toEqual({ ok: false, message: 'syntax error at or near "WHERE"', position: 17 })
  })

  it('loads once: a second load returns and parses again', async () => {
    await loadParser()
    await loadParser()
    expect(parseSql('SELECT 1').ok).toBe(true)
  })
})
