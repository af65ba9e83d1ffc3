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
