import type { MetaData } from '../stream/events'

/** What the answer cache keeps of a model's answer: enough to replay it, never its rows. */
export type CachedAnswer = {
  /** When it was answered, and its request id (`meta.cached`). */
  at: string
  request_id: string
  reasoning: string
  text: string
  /** What it was built from, as its `meta` said. */
  tables: string[]
  examples?: MetaData['examples']
  glossary?: string[]
}

/** The cache as the answer path sees it (the route binds it to the Durable Object and the key). */
export type AnswerCachePort = {
  lookup(): Promise<CachedAnswer | null>
  /** Called once with a complete, checked answer; stored in the background. */
  store(answer: CachedAnswer): void
  /** Whether to look up at all (`"cache": false` only stores a fresh answer). */
  read: boolean
}

/** Answers larger than this are not kept (a replay is for the common short answer). */
export const MAX_CACHED_CHARS = 64 * 1024

/**
 * Watches an answer's events as they are encoded — it never holds the stream back — and keeps a
 * copy of its reasoning and text. The answer is kept only when it ended well with SQL that passed
 * (or was not checked), without a repair round (whose text holds two attempts) and within size.
 */
export function answerRecorder(meta: MetaData, store: (answer: CachedAnswer) => void, now: () => Date = () => new Date()) {
  let reasoning = ''
  let text = ''
  let keep = true
  let sqlOk = false
  return (item: { event: string; data?: unknown }): void => {
    if (!keep) return
    const data = (item.data ?? {}) as Record<string, unknown>
    switch (item.event) {
      case 'reasoning':
        reasoning += String(data.text ?? '')
        break
      case 'delta':
        text += String(data.text ?? '')
        break
      case 'sql':
        sqlOk = data.ok === true
        break
      case 'repair':
      case 'error':
      case 'unanswerable':
        keep = false
        return
      case 'done':
        keep = false
        if (!sqlOk || data.finish_reason !== 'stop') return
        store({
          at: now().toISOString(),
          request_id: meta.request_id,
          reasoning,
          text,
          tables: meta.tables,
          ...(meta.examples ? { examples: meta.examples } : {}),
          ...(meta.glossary ? { glossary: meta.glossary } : {}),
        })
        return
    }
    if (reasoning.length + text.length > MAX_CACHED_CHARS) keep = false
  }
}
