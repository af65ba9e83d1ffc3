import type { Kind } from '../config/kinds.js';
import type { ConfigChange } from '../config/store.js';
import { sameContent } from '../config/same-content.js';
import type { ResourceScope } from './types.js';

/**
 * Which resources a config change can alter, by the kinds it touched: VirtualServices shape only
 * listeners (TCP routes, the ports of hosts only a VirtualService names) and routes; clusters and
 * endpoints come from services, DestinationRules and workloads. Istio skips CDS and EDS for such
 * a push too. Anything else, or nothing known, is `all`. Pure.
 */
export function scopeOfChange(kinds: readonly Kind[]): ResourceScope {
  return kinds.length > 0 && kinds.every((k) => k === 'VirtualService') ? 'routing' : 'all';
}

/** One stored change as scopeOfChanges needs it. */
export type ScopedChange = Pick<ConfigChange, 'type' | 'resource' | 'previous'>;

/**
 * scopeOfChange, plus: updates of ServiceEntries that changed nothing but their inline
 * `endpoints` are `endpoints` (clusters and endpoints regenerated, listeners and routes kept),
 * as istiod pushes an endpoint-only ServiceEntry update incrementally instead of fully. Clusters
 * are regenerated too, since they depend on the endpoints (discovery type by count, SANs by
 * service account, inline assignments of DNS clusters). Pure.
 */
export function scopeOfChanges(changes: readonly ScopedChange[]): ResourceScope {
  if (changes.length > 0 && changes.every(endpointsOnly)) return 'endpoints';
  return scopeOfChange(changes.map((c) => c.resource.kind));
}

function endpointsOnly(c: ScopedChange): boolean {
  const a = c.previous;
  const b = c.resource;
  if (c.type !== 'updated' || !a || a.kind !== 'ServiceEntry' || b.kind !== 'ServiceEntry') return false;
  // An update keeps the resource's key (kind, namespace, name) and creation time.
  const { endpoints: _a, ...restA } = a.spec;
  const { endpoints: _b, ...restB } = b.spec;
  return sameContent({ ...a, spec: restA }, { ...b, spec: restB });
}
