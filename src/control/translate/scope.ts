import type { Kind } from '../config/kinds.js';
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
