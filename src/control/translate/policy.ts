import type { ClientTLSSettings, ConnectionPoolSettings, DestinationRule, LoadBalancerSettings, OutlierDetection, TrafficPolicy } from '../config/kinds.js';

/** What applies to one cluster: the rule's policy, overridden per port, then by the subset. */
export interface EffectivePolicy {
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly tls?: ClientTLSSettings;
}

/**
 * Istio's MergeTrafficPolicy: a portLevelSettings entry for `port` replaces the rule's
 * loadBalancer / connectionPool / outlierDetection / tls field by field (whole fields, not merged
 * inside), and a subset's trafficPolicy (after its own port-level settings) replaces those.
 */
export function effectivePolicy(dr: DestinationRule | undefined, port: number, subset?: string): EffectivePolicy {
  if (!dr) return {};
  let out = atPort(dr.spec.trafficPolicy, port);
  const sub = subset ? dr.spec.subsets?.find((s) => s.name === subset) : undefined;
  if (sub?.trafficPolicy) out = override(out, atPort(sub.trafficPolicy, port));
  return out;
}

function atPort(tp: TrafficPolicy | undefined, port: number): EffectivePolicy {
  if (!tp) return {};
  const base: EffectivePolicy = strip({ loadBalancer: tp.loadBalancer, connectionPool: tp.connectionPool, outlierDetection: tp.outlierDetection, tls: tp.tls });
  const pl = tp.portLevelSettings?.find((p) => p.port?.number === port);
  return pl ? override(base, strip({ loadBalancer: pl.loadBalancer, connectionPool: pl.connectionPool, outlierDetection: pl.outlierDetection, tls: pl.tls })) : base;
}

function override(a: EffectivePolicy, b: EffectivePolicy): EffectivePolicy {
  return strip({
    loadBalancer: b.loadBalancer ?? a.loadBalancer,
    connectionPool: b.connectionPool ?? a.connectionPool,
    outlierDetection: b.outlierDetection ?? a.outlierDetection,
    tls: b.tls ?? a.tls,
  });
}

function strip(p: { loadBalancer?: LoadBalancerSettings | undefined; connectionPool?: ConnectionPoolSettings | undefined; outlierDetection?: OutlierDetection | undefined; tls?: ClientTLSSettings | undefined }): EffectivePolicy {
  const out: { -readonly [K in keyof EffectivePolicy]: EffectivePolicy[K] } = {};
  if (p.loadBalancer) out.loadBalancer = p.loadBalancer;
  if (p.connectionPool) out.connectionPool = p.connectionPool;
  if (p.outlierDetection) out.outlierDetection = p.outlierDetection;
  if (p.tls) out.tls = p.tls;
  return out;
}
