import { parseSynonyms, type Synonyms } from './synonyms'

/** Where the synonym table is among the static assets (public/linking/synonyms.txt). */
export const SYNONYMS_PATH = '/linking/synonyms.txt'

let cached: Promise<Synonyms> | undefined

/**
 * The synonym table, read once per isolate through the static-assets binding (a refresh or an
 * upload builds the link index with it; a question never waits for it). Without the binding or
 * the file the index is built without synonyms — linking still works, on the schema's own words.
 */
export function loadSynonyms(assets: Fetcher | undefined): Promise<Synonyms> {
  if (!assets) return Promise.resolve(new Map())
  cached ??= assets
    .fetch(new Request(`https://assets.invalid${SYNONYMS_PATH}`))
    .then(async (res) => (res.ok ? parseSynonyms(await res.text()) : new Map<string, string[]>()))
    .catch(() => new Map<string, string[]>())
  const result = cached
  // A failed read is tried again by the next refresh.
  void result.then((s) => {
    if (!s.size && cached === result) cached = undefined
  })
  return result
}
