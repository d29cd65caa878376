/**
 * Tiny readers for the few fields we take from each upstream chunk. These run once per token:
 * measured in workerd, a zod object schema cost tens of microseconds per chunk (see
 * BENCHMARKS.md), more than everything else in the chain, so the hot path reads fields with
 * plain type checks. Anything of the wrong type reads as absent; a chunk that is not an object
 * at all is reported by the caller as malformed.
 */
export type Fields = Record<string, unknown>

export function obj(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : undefined
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function first(value: unknown): Fields | undefined {
  return Array.isArray(value) ? obj(value[0]) : undefined
}

/**
 * Message text: a string, or (thinking models, multimodal replies) an array of parts whose `text`
 * strings are joined. Anything else reads as absent.
 */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (!Array.isArray(value)) return undefined
  let out = ''
  for (const part of value) {
    const t = obj(part)?.text
    if (typeof t === 'string') out += t
  }
  return out
}
