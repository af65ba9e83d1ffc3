/** Shared test fixtures for the load balancers: hosts, configs, deterministic randomness. */
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ClusterSchema, type Cluster } from '../../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteAction_HashPolicySchema, type RouteAction_HashPolicy } from '../../../../src/envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import type { LbContext, LbHost, LoadBalancer } from '../../../../src/proxy/upstream/lb/types.js';

export interface HostSpec { weight?: number; healthy?: boolean; active?: number; key?: string }

/** Hosts 10.0.0.1:80, 10.0.0.2:80, ... (or the given keys), weight 1, healthy, idle by default. */
export function makeHosts(specs: readonly (HostSpec | number)[]): LbHost[] {
  return specs.map((s, i) => {
    const spec: HostSpec = typeof s === 'number' ? { weight: s } : s;
    return { key: spec.key ?? `10.0.0.${i + 1}:80`, weight: spec.weight ?? 1, activeRequests: spec.active ?? 0, healthy: spec.healthy ?? true };
  });
}

/** `n` equal hosts. */
export function equalHosts(n: number): LbHost[] {
  return makeHosts(Array.from({ length: n }, () => 1));
}

/** Deterministic PRNG (mulberry32), uniform in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A `random` that returns the given values in turn, then repeats the last. */
export function scripted(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

/** A Cluster as a user writes it (proto3 JSON, proto field names). */
export function cluster(json: Record<string, JsonValue>): Cluster {
  return fromJson(ClusterSchema, { name: 'c', ...json }, { registry: envoyRegistry });
}

export function hashPolicies(json: JsonValue[]): RouteAction_HashPolicy[] {
  return json.map((j) => fromJson(RouteAction_HashPolicySchema, j, { registry: envoyRegistry }));
}

/** Picks `n` times with one context; returns how often each host was chosen, by index. */
export function countPicks(lb: LoadBalancer, hosts: readonly LbHost[], n: number, ctx: LbContext): number[] {
  const counts = hosts.map(() => 0);
  for (let i = 0; i < n; i++) {
    const h = lb.pick(ctx);
    if (h) counts[hosts.indexOf(h)]!++;
  }
  return counts;
}

/** Indices of the next `n` picks. */
export function pickSequence(lb: LoadBalancer, hosts: readonly LbHost[], n: number, ctx: LbContext): number[] {
  return Array.from({ length: n }, () => {
    const h = lb.pick(ctx);
    return h ? hosts.indexOf(h) : -1;
  });
}
