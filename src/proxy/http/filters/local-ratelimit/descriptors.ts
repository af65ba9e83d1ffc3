import type { CompiledRateLimit, DescriptorContext, DescriptorKey } from '../../route/rate-limits.js';
import type { RouteRequest } from '../../route/request.js';
import type { RouteSelection } from '../../route/route-table.js';
import type { LocalRateLimitSettings } from './config.js';

const NONE: readonly DescriptorKey[] = [];

/**
 * The request's descriptors from its route's rate_limits (Envoy's populateDescriptors for the
 * local rate limit filter): entries of the filter's stage, except those with a disable_key; the
 * virtual host's too as vh_rate_limits says (INCLUDE; OVERRIDE when the route has none at all;
 * IGNORE), or when the route sets include_vh_rate_limits. Only forward routes have rate limits.
 */
export function requestDescriptors(s: LocalRateLimitSettings, sel: RouteSelection | undefined, req: RouteRequest, ctx: DescriptorContext): readonly DescriptorKey[] {
  if (s.descriptors.length === 0 || !sel || sel.route.action.kind !== 'forward') return NONE;
  const route = sel.route;
  const vh = route.includeVhRateLimits ? 'include' : s.vhRateLimits;
  const useVh = vh === 'include' || (vh === 'override' && route.rateLimits.length === 0);
  if (route.rateLimits.length === 0 && (!useVh || sel.virtualHost.rateLimits.length === 0)) return NONE;
  const out: DescriptorKey[] = [];
  collect(route.rateLimits, s.stage, req, ctx, out);
  if (useVh) collect(sel.virtualHost.rateLimits, s.stage, req, ctx, out);
  return out;
}

function collect(list: readonly CompiledRateLimit[], stage: number, req: RouteRequest, ctx: DescriptorContext, out: DescriptorKey[]): void {
  for (const rl of list) {
    if (rl.stage !== stage || rl.hasDisableKey) continue;
    const d = rl.descriptor(req, ctx);
    if (d !== undefined) out.push(d);
  }
}
