import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

/** The texts a reader takes figures from, outside BENCHMARKS.md (which holds the measurements). */
function documents(): [string, string][] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))
  return ['README.md', 'wrangler.toml', ...docs].map((file) => [file, readFileSync(join(root, file), 'utf8').replace(/\s+/g, ' ')])
}

// "the 100 KiB budget", "the deployed bundle is ~96 KiB gzip": a size for the Worker's bundle.
const BUNDLE_SIZE_CLAIM = /\d[\d.,]*\s*(?:KiB|KB|MiB)\s*(?:gzip\s*)?(?:bundle\s*)?(?:budget|ceiling)|bundles? (?:is|are|of) ~?\d[\d.,]*\s*(?:KiB|KB|MiB)/gi

describe('figures that move are stated once', () => {
  it('the bundle size and its ceiling are stated in BENCHMARKS.md only; other documents point there', () => {
    const claims = documents().flatMap(([file, text]) => [...text.matchAll(BUNDLE_SIZE_CLAIM)].map((m) => `${file}: ${m[0]}`))
    expect(claims).toEqual([])
    expect(readFileSync(join(root, 'BENCHMARKS.md'), 'utf8')).toMatch(/\| P7 \|[^\n]*KiB gzip/)
  })
})
