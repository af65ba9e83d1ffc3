/**
 * Load balancing: Envoy's cluster lb_policy semantics as pure functions of (config, hosts,
 * injected randomness). Build a balancer with createLoadBalancer whenever the host list changes;
 * compute the per-request hash with computeRequestHash from the route's hash_policy.
 */
import type { Cluster } from '../../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { compileLbPolicy } from './config.js';
import { LeastRequestLoadBalancer } from './least-request.js';
import { MaglevLoadBalancer } from './maglev.js';
import { RandomLoadBalancer } from './random.js';
import { RingHashLoadBalancer } from './ring-hash.js';
import { RoundRobinLoadBalancer } from './round-robin.js';
import type { LbHost, LoadBalancer } from './types.js';

export type { LbContext, LbHost, LoadBalancer } from './types.js';
export { compileLbPolicy, isPrime, type LbPolicySpec } from './config.js';
export { compileHashPolicies, computeRequestHash, type CompiledHashPolicy, type CookieToSet, type HashRequest } from './hash-policy.js';
export { generateCookieValue, makeSetCookieValue, parseCookieValue, type CookieAttribute } from './cookie.js';
export { xxHash64, xxHash64Chain } from './xxhash64.js';
export { murmurHash2 } from './murmur2.js';
export { RoundRobinLoadBalancer } from './round-robin.js';
export { LeastRequestLoadBalancer, type LeastRequestOptions } from './least-request.js';
export { RandomLoadBalancer } from './random.js';
export { RingHashLoadBalancer, type RingHashOptions, type RingStats } from './ring-hash.js';
export { MaglevLoadBalancer, type MaglevStats } from './maglev.js';

/**
 * A balancer for `hosts` following `cluster.lb_policy` and its *_lb_config. The host list is
 * fixed for the balancer's lifetime (ring and Maglev tables are built here); health and active
 * requests are read at each pick. Throws ConfigError (with the field path) for unsupported or
 * invalid load-balancing config; call compileLbPolicy at config time to fail earlier.
 */
export function createLoadBalancer(cluster: Cluster, hosts: readonly LbHost[]): LoadBalancer {
  const spec = compileLbPolicy(cluster);
  // A private copy: tables index into it, so later changes to the caller's array must not leak in.
  hosts = hosts.slice();
  for (const h of hosts) {
    if (!(h.weight >= 1) || !Number.isFinite(h.weight)) throw new RangeError(`host ${h.key}: load_balancing_weight must be >= 1, got ${h.weight}`);
  }
  switch (spec.kind) {
    case 'ROUND_ROBIN': return new RoundRobinLoadBalancer(hosts);
    case 'LEAST_REQUEST': return new LeastRequestLoadBalancer(hosts, spec);
    case 'RANDOM': return new RandomLoadBalancer(hosts);
    case 'RING_HASH': return new RingHashLoadBalancer(hosts, spec);
    case 'MAGLEV': return new MaglevLoadBalancer(hosts, spec.tableSize);
  }
}
