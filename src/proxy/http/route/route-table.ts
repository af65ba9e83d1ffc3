import type { CompiledRouteAction } from './action.js';
import type { HeaderMutation } from './header-mutation.js';
import type { PerFilterConfig } from './per-filter-config.js';
import type { CompiledRateLimit } from './rate-limits.js';
import type { CompiledRouteMatch } from './match.js';
import { pathEndOf, type RouteRequest } from './request.js';
import type { DomainIndex } from './vhost-select.js';

export type { RouteRequest } from './request.js';

/** A compiled route of a virtual host. Immutable; shared by every request it serves. */
export interface CompiledRoute {
  /** `Route.name` ('' when unset). */
  readonly name: string;
  readonly match: CompiledRouteMatch;
  readonly action: CompiledRouteAction;
  /**
   * The route's, its virtual host's and its route configuration's request header mutations, in
   * the order Envoy evaluates them (route first unless `most_specific_header_mutations_wins`).
   */
  readonly requestHeaderMutations: readonly HeaderMutation[];
  readonly responseHeaderMutations: readonly HeaderMutation[];
  /**
   * `typed_per_filter_config` as this route's filters see it, by filter name: the route's
   * value, else its virtual host's, else its route configuration's (Envoy's most specific
   * wins). A filter reads its own with `perFilterConfig.get(<http_filters[].name>)`.
   */
  readonly perFilterConfig: PerFilterConfig;
  /** `route.rate_limits` (descriptors for rate limit filters); empty for other actions. */
  readonly rateLimits: readonly CompiledRateLimit[];
  /** `route.include_vh_rate_limits` (deprecated): also use the virtual host's rate_limits. */
  readonly includeVhRateLimits: boolean;
}

/** A compiled virtual host. */
export interface CompiledVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly CompiledRoute[];
  /** `require_tls`: requests not over https (x-forwarded-proto) are redirected to https. */
  readonly requireTls: 'none' | 'external_only' | 'all';
  /** Send x-envoy-attempt-count upstream / in the response. */
  readonly includeRequestAttemptCount: boolean;
  readonly includeAttemptCountInResponse: boolean;
  /** `rate_limits` of the virtual host. */
  readonly rateLimits: readonly CompiledRateLimit[];
  /** typed_per_filter_config of the virtual host, else of the route configuration (routes already fold this in). */
  readonly perFilterConfig: PerFilterConfig;
}

/** The outcome of route selection. One shared object per route: select() does not allocate it. */
export interface RouteSelection {
  readonly virtualHost: CompiledVirtualHost;
  readonly route: CompiledRoute;
}

/** A cluster name a forward route refers to, with the field that names it. */
export interface ClusterRef {
  readonly cluster: string;
  /** e.g. `route_config.virtual_hosts[0].routes[2].route.weighted_clusters.clusters[1].name` */
  readonly path: string;
}

/** @internal What the table keeps per virtual host. */
export interface VirtualHostEntry {
  readonly vhost: CompiledVirtualHost;
  /** selections[i] is { vhost, vhost.routes[i] }. */
  readonly selections: readonly RouteSelection[];
  /** The `require_tls` redirect, when required. */
  readonly tlsRedirect: RouteSelection | undefined;
}

/**
 * A RouteConfiguration compiled by compileRouteConfig: immutable, built once per config and
 * swapped whole on update.
 */
export class RouteTable {
  readonly #index: DomainIndex<VirtualHostEntry>;

  constructor(
    /** RouteConfiguration.name */
    readonly name: string,
    readonly virtualHosts: readonly CompiledVirtualHost[],
    index: DomainIndex<VirtualHostEntry>,
    /**
     * Every cluster the forward routes name, for the loader to check against the cluster
     * manager (Envoy's `validate_clusters`, which defaults to true for a route_config given
     * inline in the bootstrap: "route: unknown cluster 'x'").
     */
    readonly clusterRefs: readonly ClusterRef[],
    /** RouteConfiguration.validate_clusters as configured (undefined = unset). */
    readonly validateClusters: boolean | undefined,
  ) {
    this.#index = index;
  }

  /**
   * Envoy's route selection: the virtual host by domain, then the `require_tls` check, then the
   * first route whose match accepts the request. Undefined when no virtual host or no route
   * matches (the caller answers 404, response flag NR). Allocates nothing when the matched
   * routes use no regex, no case-insensitive match on an upper-case Host and no query matcher.
   */
  select(req: RouteRequest): RouteSelection | undefined {
    const e = this.#index.find(req.authority);
    if (e === undefined) return undefined;
    if (e.tlsRedirect !== undefined && needsTlsRedirect(e.vhost.requireTls, req)) return e.tlsRedirect;
    const routes = e.vhost.routes;
    const pathEnd = pathEndOf(req.path);
    for (let i = 0; i < routes.length; i++) {
      if (routes[i]!.match.matches(req, pathEnd)) return e.selections[i];
    }
    return undefined;
  }
}

/**
 * Envoy checks the request's `x-forwarded-proto` (which the connection manager always sets; we
 * fall back to :scheme when a caller did not): ALL redirects anything not `https`,
 * EXTERNAL_ONLY only requests without `x-envoy-internal: true`.
 */
function needsTlsRedirect(mode: CompiledVirtualHost['requireTls'], req: RouteRequest): boolean {
  const proto = req.headers.get('x-forwarded-proto') ?? req.scheme ?? 'http';
  if (proto === 'https') return false;
  return mode === 'all' || (mode === 'external_only' && req.headers.get('x-envoy-internal') !== 'true');
}
