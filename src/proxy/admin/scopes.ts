import type { Counter, Gauge, Histogram, StatScope } from '../stats-scope.js';
import type { StatDescriptor, StatsStore } from './stats.js';

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

/** The scopes a proxy instance asks for, one per Envoy prefix. */
export interface StatScopes {
  cluster(name: string): StatScope;
  /** `http.<stat_prefix>.` of an HTTP connection manager. */
  http(statPrefix: string): StatScope;
  /** `listener.<address>.` where address is the listener's stat_prefix or `<ip>_<port>`. */
  listener(address: string): StatScope;
  /** `tcp.<stat_prefix>.` of a tcp_proxy. */
  tcp(statPrefix: string): StatScope;
}

export function scopesFor(store: StatsStore): StatScopes {
  return {
    cluster: (name) => new PrefixScope(store, 'cluster', name),
    http: (p) => new PrefixScope(store, 'http', p),
    listener: (a) => new PrefixScope(store, 'listener', a),
    tcp: (p) => new PrefixScope(store, 'tcp', p),
  };
}
