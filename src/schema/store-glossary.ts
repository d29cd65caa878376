import { AppError } from '../errors'
import { linkIndexFor, roleLinkIndexesOf } from '../linking/index-cache'
import { GLOSSARY_KEY, type Glossary } from './glossary'
import type { Snapshot } from './snapshot-schema'
import { parseSnapshot, saveSnapshot, type SnapshotPointer } from './snapshot-store'
import { contentVersion } from './snapshot-version'

/**
 * A glossary PUT, after its references were checked against `snapshot`: stored under GLOSSARY_KEY
 * for every later refresh and upload, and copied into the snapshot at once. That is a new content,
 * so a new version (as a refresh would compute it: the next refresh of an unchanged database then
 * finds nothing to change). The snapshot keeps the link indexes it has (its own and each role's) —
 * the glossary is not part of them, and the row values in them only a refresh can collect again.
 */
export async function storeGlossary(kv: KVNamespace, snapshot: Snapshot, glossary: Glossary): Promise<SnapshotPointer> {
  await kv.put(GLOSSARY_KEY, JSON.stringify(glossary))
  const { glossary: _old, ...rest } = snapshot
  const parsed = parseSnapshot({ ...rest, ...(glossary.terms.length ? { glossary: glossary.terms } : {}) })
  if (!parsed.ok) throw new AppError(400, 'invalid_glossary', `The glossary does not fit the snapshot: ${parsed.error}`)
  const unchanged = JSON.stringify(withoutVersion(parsed.snapshot)) === JSON.stringify(withoutVersion(snapshot))
  const version = unchanged ? snapshot.version : await contentVersion(parsed.snapshot)
  const roleLinkIndexes = roleLinkIndexesOf(snapshot)
  const { pointer } = await saveSnapshot(kv, { ...parsed.snapshot, version }, { linkIndex: linkIndexFor(snapshot), ...(roleLinkIndexes ? { roleLinkIndexes } : {}) })
  return pointer
}

function withoutVersion(s: Snapshot): Omit<Snapshot, 'version' | 'refreshed_at'> {
  const { version: _v, refreshed_at: _r, ...content } = s
  return content
}
