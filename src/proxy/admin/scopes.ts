import type { Counter, Gauge, Histogram, StatScope } from '../stats-scope.js';
import type { StatDescriptor, StatsStore } from './stats.js';
import type { NamedStats } from '../istio-stats/series.js';

/**
 * The stat prefixes whose value Envoy turns into a Prometheus tag, and the tag's name
 * (Envoy's default tag specifiers, source/common/config/well_known_names.cc).
 */
export const SCOPE_TAGS = {
  cluster: 'envoy_cluster_name',
  http: 'envoy_http_conn_manager_prefix',
  listener: 'envoy_listener_address',
  tcp: 'envoy_tcp_prefix',
} as const;

export type EnvoyScope = keyof typeof SCOPE_TAGS;

// Envoy's prefix-less extractors, applied to the stat itself: `_rq(_(\d)xx)$` and `_rq(_(\d{3}))$`.
const RESPONSE_CODE_CLASS = /_rq_(\d)xx$/;
const RESPONSE_CODE = /_rq_(\d{3})$/;

/**
 * The descriptor Envoy's tag extraction would produce for `<scope>.<value>.<stat>`, without
 * parsing `value` (cluster names hold `.` and `|`). `stat` is a plain Envoy stat name such as
 * `upstream_rq_total`. Response-code tags come first, as Envoy prints them:
 *   scopeStat('cluster', 'x', 'upstream_rq_2xx') ->
 *     { name: 'cluster.x.upstream_rq_2xx', tagExtractedName: 'cluster.upstream_rq_xx',
 *       tags: { envoy_response_code_class: '2', envoy_cluster_name: 'x' } }
 */
export function scopeStat(scope: EnvoyScope, value: string, stat: string): StatDescriptor {
  const tags: Record<string, string> = {};
  let extracted = stat;
  let m = RESPONSE_CODE_CLASS.exec(stat);
  if (m) {
    tags.envoy_response_code_class = m[1]!;
    extracted = `${stat.slice(0, m.index)}_rq_xx`;
  } else if ((m = RESPONSE_CODE.exec(stat))) {
    tags.envoy_response_code = m[1]!;
    extracted = `${stat.slice(0, m.index)}_rq`;
  }
  tags[SCOPE_TAGS[scope]] = value;
  return { name: `${scope}.${value}.${stat}`, tagExtractedName: `${scope}.${extracted}`, tags };
}

/** `cluster.<name>.<stat>`; see scopeStat. */
export function clusterStat(cluster: string, stat: string): StatDescriptor {
  return scopeStat('cluster', cluster, stat);
}

/** A StatScope (what the data plane sees) over one Envoy prefix of the shared store. */
export class PrefixScope implements StatScope {
  constructor(readonly store: StatsStore, readonly scope: EnvoyScope, readonly value: string) {}
  counter(stat: string): Counter { return this.store.counter(scopeStat(this.scope, this.value, stat)); }
  gauge(stat: string): Gauge { return this.store.gauge(scopeStat(this.scope, this.value, stat)); }
  histogram(stat: string): Histogram { return this.store.histogram(scopeStat(this.scope, this.value, stat)); }
}

/**
 * A filter's own namespace outside the four scopes: stats named `<namePrefix><stat>`, whose
 * tag-extracted name is `<extractedPrefix><stat>` with fixed tags (Envoy's extractors for it).
 */
export class TaggedScope implements StatScope {
  constructor(readonly store: StatsStore, readonly namePrefix: string, readonly extractedPrefix: string, readonly tags: Readonly<Record<string, string>>) {}
  #d(stat: string): StatDescriptor { return { name: this.namePrefix + stat, tagExtractedName: this.extractedPrefix + stat, tags: this.tags }; }
  counter(stat: string): Counter { return this.store.counter(this.#d(stat)); }
  gauge(stat: string): Gauge { return this.store.gauge(this.#d(stat)); }
  histogram(stat: string): Histogram { return this.store.histogram(this.#d(stat)); }
}

/** The scopes a proxy instance asks for, one per Envoy prefix. */
export interface StatScopes {
  cluster(name: string): StatScope;
  /** `http.<stat_prefix>.` of an HTTP connection manager. */
  http(statPrefix: string): StatScope;
  /** `listener.<address>.` where address is the listener's stat_prefix or `<ip>_<port>`. */
  listener(address: string): StatScope;
  /** `tcp.<stat_prefix>.` of a tcp_proxy. */
  tcp(statPrefix: string): StatScope;
  /** `<stat_prefix>.http_local_rate_limit.` of an HTTP local rate limit (tag envoy_local_http_ratelimit_prefix). */
  httpLocalRateLimit(statPrefix: string): StatScope;
  /** `local_rate_limit.<stat_prefix>.` of a network local rate limit (tag envoy_local_network_ratelimit_prefix). */
  networkLocalRateLimit(statPrefix: string): StatScope;
  /** `http.<hcm_prefix>.fault.<downstream_cluster>.`: fault stats per x-envoy-downstream-service-cluster. */
  faultDownstreamCluster(hcmPrefix: string, cluster: string): StatScope;
  /** `<stat_prefix>.` at the root, for filters Envoy names from their own stat_prefix (network rbac); no tags. */
  root(statPrefix: string): StatScope;
  /** Stats by full descriptor, for filters that name and tag their own (Istio's standard metrics). */
  readonly named: NamedStats;
}

export function scopesFor(store: StatsStore): StatScopes {
  return {
    cluster: (name) => new PrefixScope(store, 'cluster', name),
    http: (p) => new PrefixScope(store, 'http', p),
    listener: (a) => new PrefixScope(store, 'listener', a),
    tcp: (p) => new PrefixScope(store, 'tcp', p),
    httpLocalRateLimit: (p) => new TaggedScope(store, `${p}.http_local_rate_limit.`, 'http_local_rate_limit.', { envoy_local_http_ratelimit_prefix: p }),
    networkLocalRateLimit: (p) => new TaggedScope(store, `local_rate_limit.${p}.`, 'local_rate_limit.', { envoy_local_network_ratelimit_prefix: p }),
    root: (p) => { const n = p.endsWith('.') ? p : `${p}.`; return new TaggedScope(store, n, n, {}); },
    faultDownstreamCluster: (h, c) => new TaggedScope(store, `http.${h}.fault.${c}.`, 'http.fault.', { envoy_fault_downstream_cluster: c, [SCOPE_TAGS.http]: h }),
    named: { counter: (d) => store.counter(d), histogram: (d) => store.histogram(d) },
  };
}
