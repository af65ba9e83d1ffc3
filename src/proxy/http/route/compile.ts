import type { RouteConfiguration } from '../../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { VirtualHost_TlsRequirementType as Tls, type VirtualHost } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileAction, DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES, type ActionDefaults } from './action.js';
import { compileHeaderMutation, type HeaderMutation } from './header-mutation.js';
import { compileRouteMatch, type CompiledRouteMatch } from './match.js';
import { SSL_REDIRECT } from './redirect.js';
import { RouteTable, type ClusterRef, type CompiledRoute, type CompiledVirtualHost, type RouteSelection, type VirtualHostEntry } from './route-table.js';
import { DomainIndex } from './vhost-select.js';
import { compilePerFilterConfig, mostSpecificPerFilterConfig, NO_PER_FILTER_CONFIG, type PerFilterConfig } from './per-filter-config.js';
import { compileRateLimits } from './rate-limits.js';

/**
 * Compiles an Envoy RouteConfiguration into an immutable RouteTable. Validates what Envoy
 * validates at load time (RE2 syntax, domain uniqueness, weights, header names, ...) and throws
 * a ConfigError naming the field under `path`. Fields tsmesh does not implement are the
 * support table's business (supported-fields.ts), except oneof choices that cannot be
 * represented, which throw here too.
 */
export function compileRouteConfig(rc: RouteConfiguration, path = ''): RouteTable {
  const at = (field: string): string => (path ? `${path}.${field}` : field);
  const mostSpecificWins = rc.mostSpecificHeaderMutationsWins;
  const globalReq = compileHeaderMutation(rc.requestHeadersToAdd, rc.requestHeadersToRemove, path, 'request');
  const globalResp = compileHeaderMutation(rc.responseHeadersToAdd, rc.responseHeadersToRemove, path, 'response');
  const maxBody = rc.maxDirectResponseBodySizeBytes ?? DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES;
  const index = new DomainIndex<VirtualHostEntry>(rc.ignorePortInHostMatching);
  const rcFilters = compilePerFilterConfig(rc.typedPerFilterConfig, path);

  const vhosts = rc.virtualHosts.map((vh, i) => {
    const p = at(`virtual_hosts[${i}]`);
    const entry = compileVirtualHost(vh, p, {
      retryPolicy: vh.retryPolicy,
      retryPolicyPath: `${p}.retry_policy`,
      perRequestBufferLimitBytes: vh.perRequestBufferLimitBytes,
      requestMirrorPolicies: vh.requestMirrorPolicies.length > 0 ? vh.requestMirrorPolicies : rc.requestMirrorPolicies,
      mirrorPoliciesPath: vh.requestMirrorPolicies.length > 0 ? `${p}.request_mirror_policies` : at('request_mirror_policies'),
      maxDirectResponseBodyBytes: maxBody,
    }, (route, vhost, side) => {
      const levels = side === 'request' ? [route, vhost, globalReq] : [route, vhost, globalResp];
      if (mostSpecificWins) levels.reverse();
      return levels.filter((m): m is HeaderMutation => m !== undefined);
    }, rcFilters);
    vh.domains.forEach((d, j) => index.add(d, entry, `${p}.domains[${j}]`));
    return entry.vhost;
  });
  return new RouteTable(rc.name, vhosts, index, clusterRefs(rc, at), rc.validateClusters);
}

function clusterRefs(rc: RouteConfiguration, at: (field: string) => string): ClusterRef[] {
  const refs: ClusterRef[] = [];
  rc.virtualHosts.forEach((vh, i) => vh.routes.forEach((r, j) => {
    if (r.action.case !== 'route') return;
    const p = at(`virtual_hosts[${i}].routes[${j}].route`);
    const spec = r.action.value.clusterSpecifier;
    if (spec.case === 'cluster') refs.push({ cluster: spec.value, path: `${p}.cluster` });
    else if (spec.case === 'weightedClusters') {
      spec.value.clusters.forEach((c, k) => refs.push({ cluster: c.name, path: `${p}.weighted_clusters.clusters[${k}].name` }));
    }
  }));
  return refs;
}

type Chain = (route: HeaderMutation | undefined, vhost: HeaderMutation | undefined, side: 'request' | 'response') => HeaderMutation[];

function compileVirtualHost(vh: VirtualHost, path: string, defaults: ActionDefaults, chain: Chain, rcFilters: PerFilterConfig): VirtualHostEntry {
  if (!vh.name) throw new ConfigError(`${path}.name`, 'must not be empty');
  if (vh.domains.length === 0) throw new ConfigError(`${path}.domains`, 'at least one domain is required');
  if (vh.matcher) {
    throw new ConfigError(`${path}.matcher`, vh.routes.length > 0 ? 'cannot set both matcher and routes on virtual host' : 'matcher is not supported: use routes');
  }
  const vhReq = compileHeaderMutation(vh.requestHeadersToAdd, vh.requestHeadersToRemove, path, 'request');
  const vhResp = compileHeaderMutation(vh.responseHeadersToAdd, vh.responseHeadersToRemove, path, 'response');
  const vhFilters = compilePerFilterConfig(vh.typedPerFilterConfig, path);
  const routes = vh.routes.map((r, j): CompiledRoute => {
    const p = `${path}.routes[${j}]`;
    const match = compileRouteMatch(r.match, `${p}.match`);
    const action = compileAction(r, match, defaults, p);
    const forward = r.action.case === 'route' ? r.action.value : undefined;
    return {
      name: r.name,
      match,
      action,
      requestHeaderMutations: chain(compileHeaderMutation(r.requestHeadersToAdd, r.requestHeadersToRemove, p, 'request'), vhReq, 'request'),
      responseHeaderMutations: chain(compileHeaderMutation(r.responseHeadersToAdd, r.responseHeadersToRemove, p, 'response'), vhResp, 'response'),
      perFilterConfig: mostSpecificPerFilterConfig([compilePerFilterConfig(r.typedPerFilterConfig, p), vhFilters, rcFilters]),
      rateLimits: forward ? compileRateLimits(forward.rateLimits, `${p}.route.rate_limits`) : [],
      includeVhRateLimits: forward?.includeVhRateLimits ?? false,
    };
  });
  const requireTls = vh.requireTls === Tls.NONE ? 'none' : vh.requireTls === Tls.EXTERNAL_ONLY ? 'external_only' : vh.requireTls === Tls.ALL ? 'all' : undefined;
  if (requireTls === undefined) throw new ConfigError(`${path}.require_tls`, `unknown value ${vh.requireTls}`);
  const vhost: CompiledVirtualHost = {
    name: vh.name, domains: [...vh.domains], routes, requireTls,
    includeRequestAttemptCount: vh.includeRequestAttemptCount, includeAttemptCountInResponse: vh.includeAttemptCountInResponse,
    rateLimits: compileRateLimits(vh.rateLimits, `${path}.rate_limits`),
    perFilterConfig: mostSpecificPerFilterConfig([vhFilters, rcFilters]),
  };
  const selections = routes.map((route): RouteSelection => ({ virtualHost: vhost, route }));
  // Envoy's SslRedirectRoute: no header mutations of its own, none inherited.
  const tlsRedirect: RouteSelection | undefined = requireTls === 'none' ? undefined : {
    virtualHost: vhost,
    route: { name: '', match: ANY, action: SSL_REDIRECT, requestHeaderMutations: [], responseHeaderMutations: [], perFilterConfig: NO_PER_FILTER_CONFIG, rateLimits: [], includeVhRateLimits: false },
  };
  return { vhost, selections, tlsRedirect };
}

const ANY: CompiledRouteMatch = {
  matches: () => true,
  matchedLength: (pathEnd) => pathEnd,
};
