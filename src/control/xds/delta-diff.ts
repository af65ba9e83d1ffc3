import type { Subscription } from './subscription.js';
import type { TypeResources, VersionedResource } from './snapshot.js';

/** What a Delta response must carry to bring a client from what it has to the target. */
export interface DeltaChange {
  readonly updated: VersionedResource[];
  readonly removed: string[];
}

/**
 * Compares what the client has (`has`: name → version) with what it should have (`target`
 * filtered by `sub`). Sends a resource when the client lacks it or has another version; removes a
 * name the client has that is no longer in the target (gone, or no longer covered). Pure.
 */
export function deltaChange(has: ReadonlyMap<string, string>, target: TypeResources, sub: Subscription): DeltaChange {
  const updated: VersionedResource[] = [];
  const removed: string[] = [];
  for (const r of sub.select(target)) if (has.get(r.name) !== r.version) updated.push(r);
  for (const name of has.keys()) if (!sub.covers(name) || !target.has(name)) removed.push(name);
  return { updated, removed };
}

/** What changed between two snapshots of one type: resources new or in another version, names gone. */
export interface TargetChange {
  readonly changed: readonly VersionedResource[];
  readonly gone: readonly string[];
}

const targetChanges = new WeakMap<TypeResources, WeakMap<TypeResources, TargetChange>>();

/**
 * The change from `before` to `after`, computed once per pair and shared: every stream of a
 * shape moves between the same two snapshots in a push. Unchanged resources keep their objects
 * across snapshots (buildSnapshot), so this is an identity check per resource.
 */
export function targetChange(before: TypeResources, after: TypeResources): TargetChange {
  let byAfter = targetChanges.get(before);
  if (!byAfter) { byAfter = new WeakMap(); targetChanges.set(before, byAfter); }
  let c = byAfter.get(after);
  if (!c) {
    const changed: VersionedResource[] = [];
    const gone: string[] = [];
    for (const r of after.values()) if (before.get(r.name) !== r) changed.push(r);
    for (const name of before.keys()) if (!after.has(name)) gone.push(name);
    c = { changed, gone };
    byAfter.set(after, c);
  }
  return c;
}

/**
 * deltaChange for a client that has exactly what `sub` selects of `before` (what it was brought
 * to by the previous push): only the resources that changed between the two snapshots are
 * looked at, instead of every subscribed one. Gives the same result as deltaChange then. Pure.
 */
export function deltaChangeSince(has: Pick<ReadonlyMap<string, string>, 'get' | 'has'>, before: TypeResources, target: TypeResources, sub: Subscription): DeltaChange {
  const { changed, gone } = targetChange(before, target);
  const updated: VersionedResource[] = [];
  const removed: string[] = [];
  for (const r of changed) if (sub.covers(r.name) && has.get(r.name) !== r.version) updated.push(r);
  for (const name of gone) if (has.has(name)) removed.push(name);
  return { updated, removed };
}
