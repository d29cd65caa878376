import type { Snapshot } from '../schema/snapshot-schema'
import { buildLinkIndex, type LinkIndex } from './link-index'

// The index travels with the stored snapshot (built at refresh/upload); the parsed snapshot object
// is cached per isolate, and so is its index. A snapshot stored without one gets it built once here.
const indexes = new WeakMap<Snapshot, LinkIndex>()
// Each role's view has its own index (built at refresh from the role's columns and values,
// src/schema/role-view.ts); stored beside the snapshot's and attached when the view is first cut.
const roleIndexes = new WeakMap<Snapshot, Record<string, unknown>>()

export function attachLinkIndex(snapshot: Snapshot, index: unknown): void {
  if (isLinkIndex(index, snapshot)) indexes.set(snapshot, index)
}

export function attachRoleLinkIndexes(snapshot: Snapshot, byRole: unknown): void {
  if (byRole && typeof byRole === 'object') roleIndexes.set(snapshot, byRole as Record<string, unknown>)
}

/** Every role's stored index, as attached (a change that keeps the tables keeps them too). */
export function roleLinkIndexesOf(snapshot: Snapshot): Record<string, unknown> | undefined {
  return roleIndexes.get(snapshot)
}

/** The stored index of a role's view, unchecked (attachLinkIndex checks it against the view). */
export function roleLinkIndexOf(snapshot: Snapshot, role: string): unknown {
  const byRole = roleIndexes.get(snapshot)
  return byRole && Object.hasOwn(byRole, role) ? byRole[role] : undefined
}

export function linkIndexFor(snapshot: Snapshot): LinkIndex {
  let index = indexes.get(snapshot)
  if (!index) indexes.set(snapshot, (index = buildLinkIndex(snapshot)))
  return index
}

function isLinkIndex(value: unknown, snapshot: Snapshot): value is LinkIndex {
  const v = value as Partial<LinkIndex> | null
  return !!v && v.v === 3 && Array.isArray(v.tokens) && v.tokens.length === snapshot.tables.length && Array.isArray(v.refs) && Array.isArray(v.columns) && !!v.values && typeof v.values === 'object' && v.refs.length === snapshot.tables.length && Array.isArray(v.examples) && v.examples.length === snapshot.examples.length
}
