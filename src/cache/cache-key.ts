import { normalizeQuestion } from '../examples/match-verified'
import { sha256Hex } from '../schema/bytes'

/**
 * Bumped whenever the prompt or the answer path changes what an answer to the same question is:
 * every cached answer of an older version then misses.
 */
export const ANSWER_CODE_VERSION = '1'

/** A token's own bookkeeping: a refreshed token of the same person still hits. */
const BOOKKEEPING_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti'])

export type CacheKeyInput = {
  question: string
  /** The snapshot's content version: tables, comments and overlay, glossary, examples. */
  schemaVersion: string
  /** The caller's database role (a JWT's), or null for the service's own. */
  role: string | null
  /** The verified claims as JSON (a JWT's), or null. */
  claims: string | null
  /** The model and how it is asked (not the endpoint: the same model answers the same everywhere). */
  model: { name: string; protocol: string; thinking: boolean }
}

/**
 * The answer cache's key (docs/SNAPSHOT.md, "The answer cache"): the normalised question, the
 * schema version, the code version, the role, every claim but the token's bookkeeping (another
 * tenant never hits) and the model settings, hashed.
 */
export async function answerCacheKey(input: CacheKeyInput): Promise<string> {
  const claims = input.claims === null ? null : canonicalClaims(input.claims)
  return sha256Hex(JSON.stringify([ANSWER_CODE_VERSION, normalizeQuestion(input.question), input.schemaVersion, input.role, claims, input.model]))
}

/** The claims without exp/iat/nbf/jti, keys sorted at every depth (the same claims, the same text). */
function canonicalClaims(json: string): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v
  const claims = JSON.parse(json) as Record<string, unknown>
  for (const k of BOOKKEEPING_CLAIMS) delete claims[k]
  return JSON.stringify(sorted(claims))
}
