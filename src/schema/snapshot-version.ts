import { sha256Hex } from './bytes'
import type { Snapshot } from './snapshot-schema'

/**
 * The version of a snapshot the service composed (a refresh, a glossary change): it names the
 * content, so anything keyed by it — the `meta` event, /healthz, caches of answers — sees every
 * change, and an unchanged content keeps it. The hash is of the validated snapshot (version and
 * refreshed_at left out), so the same content gives the same version whichever path built it.
 * - introspected: `pg-` + 12 hex digits;
 * - uploaded (a curated label, `curated-7`): the label + `+` + 8 hex digits once the service has
 *   changed its content (a glossary PUT), so the label still says which upload it grew from.
 */
export async function contentVersion(snapshot: Snapshot): Promise<string> {
  const { version, refreshed_at: _time, ...content } = snapshot
  const hash = await sha256Hex(JSON.stringify(content))
  if (snapshot.source === 'introspection') return `pg-${hash.slice(0, 12)}`
  return `${uploadLabel(version).slice(0, 128 - 9)}+${hash.slice(0, 8)}`
}

/** The curator's label of an uploaded snapshot, without the suffix an earlier change added. */
function uploadLabel(version: string): string {
  return version.replace(/\+[0-9a-f]{8}$/, '')
}
