import { createConfig, lintFromString } from '@redocly/openapi-core'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const source = readFileSync(join(import.meta.dirname, '..', '..', 'public', 'openapi.json'), 'utf8')

/** What Redocly's recommended rules (a team's API tooling runs them) say of a document: every warning and error. */
async function lintRecommended(text: string): Promise<string[]> {
  const config = await createConfig({ extends: ['recommended'] })
  const problems = await lintFromString({ source: text, absoluteRef: '/openapi.json', config })
  return problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`)
}

describe("public/openapi.json under Redocly's recommended rules", () => {
  it('passes with no error and no warning', async () => {
    expect(await lintRecommended(source)).toEqual([])
  })

  it('would be caught: a public route without `security: []`, an operation without a 4xx response, no licence', async () => {
    const doc = JSON.parse(source)
    delete doc.paths['/healthz'].get.security
    delete doc.paths['/openapi.json'].get.responses['404']
    delete doc.info.license
    const problems = await lintRecommended(JSON.stringify(doc))
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error security-defined #\/paths\/~1healthz\/get/),
        expect.stringMatching(/^warn operation-4xx-response #\/paths\/~1openapi.json\/get/),
        expect.stringMatching(/^warn info-license #\/info/),
      ]),
    )
  })
})
