/**
 * Cluster.lb_policy and its *_lb_config, validated and reduced to what the balancers need.
 * Defaults and limits are Envoy's (cluster.proto validation rules and the LB constructors).
 */
import type { Cluster } from '../../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { Cluster_LbPolicy, Cluster_RingHashLbConfig_HashFunction } from '../../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ConfigError } from '../../../envoy/registry.js';

export type LbPolicySpec =
  | { readonly kind: 'ROUND_ROBIN' }
  | { readonly kind: 'LEAST_REQUEST'; readonly choiceCount: number; readonly activeRequestBias: number }
  | { readonly kind: 'RANDOM' }
  | { readonly kind: 'RING_HASH'; readonly minRingSize: number; readonly maxRingSize: number; readonly hashFunction: 'XX_HASH' | 'MURMUR_HASH_2' }
  | { readonly kind: 'MAGLEV'; readonly tableSize: number };

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;
/** cluster.proto: `{minimum,maximum}_ring_size` lte 8388608. */
const RING_SIZE_LIMIT = 8388608;
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
/** cluster.proto: `table_size` lte 5000011. */
const MAGLEV_TABLE_LIMIT = 5000011;
export const DEFAULT_CHOICE_COUNT = 2;

const LB_CONFIG_FIELD = {
  ringHashLbConfig: 'ring_hash_lb_config',
  maglevLbConfig: 'maglev_lb_config',
  originalDstLbConfig: 'original_dst_lb_config',
  leastRequestLbConfig: 'least_request_lb_config',
  roundRobinLbConfig: 'round_robin_lb_config',
} as const;

const cache = new WeakMap<Cluster, LbPolicySpec>();

/**
 * Validates the load-balancing fields of `cluster` (field paths under `path`) and returns the
 * policy. Throws ConfigError for an unsupported policy, a *_lb_config that does not belong to the
 * policy, or an out-of-range value. Cached per Cluster message, so calling it at config time makes
 * createLoadBalancer (on every membership change) free of parsing and of errors.
 */
export function compileLbPolicy(cluster: Cluster, path = `cluster '${cluster.name}'`): LbPolicySpec {
  let spec = cache.get(cluster);
  if (!spec) {
    spec = compile(cluster, path);
    cache.set(cluster, spec);
  }
  return spec;
}

function compile(c: Cluster, path: string): LbPolicySpec {
  if (c.loadBalancingPolicy) throw new ConfigError(`${path}.load_balancing_policy`, 'typed load balancing policies are not supported; use lb_policy');
  const policy = c.lbPolicy;
  const cfg = c.lbConfig;
  const expected = {
    [Cluster_LbPolicy.ROUND_ROBIN]: 'roundRobinLbConfig',
    [Cluster_LbPolicy.LEAST_REQUEST]: 'leastRequestLbConfig',
    [Cluster_LbPolicy.RING_HASH]: 'ringHashLbConfig',
    [Cluster_LbPolicy.MAGLEV]: 'maglevLbConfig',
  }[policy as number];
  if (cfg.case && cfg.case !== expected) {
    throw new ConfigError(`${path}.${LB_CONFIG_FIELD[cfg.case]}`, `does not apply to lb_policy ${Cluster_LbPolicy[policy] ?? policy}`);
  }
  switch (policy) {
    case Cluster_LbPolicy.ROUND_ROBIN: {
      if (cfg.case === 'roundRobinLbConfig' && cfg.value.slowStartConfig) throw new ConfigError(`${path}.round_robin_lb_config.slow_start_config`, 'slow start is not supported');
      return { kind: 'ROUND_ROBIN' };
    }
    case Cluster_LbPolicy.LEAST_REQUEST: {
      const lr = cfg.case === 'leastRequestLbConfig' ? cfg.value : undefined;
      const p = `${path}.least_request_lb_config`;
      if (lr?.slowStartConfig) throw new ConfigError(`${p}.slow_start_config`, 'slow start is not supported');
      const choiceCount = lr?.choiceCount ?? DEFAULT_CHOICE_COUNT;
      if (choiceCount < 2) throw new ConfigError(`${p}.choice_count`, `must be >= 2, got ${choiceCount}`);
      // There is no runtime layer: active_request_bias is its default_value.
      const activeRequestBias = lr?.activeRequestBias ? lr.activeRequestBias.defaultValue : 1.0;
      if (!(activeRequestBias >= 0) || !Number.isFinite(activeRequestBias)) {
        throw new ConfigError(`${p}.active_request_bias.default_value`, `must be a finite number >= 0, got ${activeRequestBias}`);
      }
      return { kind: 'LEAST_REQUEST', choiceCount, activeRequestBias };
    }
    case Cluster_LbPolicy.RANDOM:
      return { kind: 'RANDOM' };
    case Cluster_LbPolicy.RING_HASH: {
      const rh = cfg.case === 'ringHashLbConfig' ? cfg.value : undefined;
      const p = `${path}.ring_hash_lb_config`;
      const minRingSize = ringSize(rh?.minimumRingSize, DEFAULT_MIN_RING_SIZE, `${p}.minimum_ring_size`);
      const maxRingSize = ringSize(rh?.maximumRingSize, DEFAULT_MAX_RING_SIZE, `${p}.maximum_ring_size`);
      if (minRingSize > maxRingSize) throw new ConfigError(`${p}.minimum_ring_size`, `minimum_ring_size (${minRingSize}) > maximum_ring_size (${maxRingSize})`);
      const fn = rh?.hashFunction ?? Cluster_RingHashLbConfig_HashFunction.XX_HASH;
      if (fn !== Cluster_RingHashLbConfig_HashFunction.XX_HASH && fn !== Cluster_RingHashLbConfig_HashFunction.MURMUR_HASH_2) {
        throw new ConfigError(`${p}.hash_function`, `unknown hash function ${fn}`);
      }
      return { kind: 'RING_HASH', minRingSize, maxRingSize, hashFunction: fn === Cluster_RingHashLbConfig_HashFunction.XX_HASH ? 'XX_HASH' : 'MURMUR_HASH_2' };
    }
    case Cluster_LbPolicy.MAGLEV: {
      const mg = cfg.case === 'maglevLbConfig' ? cfg.value : undefined;
      const p = `${path}.maglev_lb_config.table_size`;
      const size = mg?.tableSize ?? BigInt(DEFAULT_MAGLEV_TABLE_SIZE);
      if (size > BigInt(MAGLEV_TABLE_LIMIT)) throw new ConfigError(p, `must be <= ${MAGLEV_TABLE_LIMIT}, got ${size}`);
      const tableSize = Number(size);
      if (!isPrime(tableSize)) throw new ConfigError(p, `the table size of maglev must be a prime number, got ${tableSize}`);
      return { kind: 'MAGLEV', tableSize };
    }
    default:
      throw new ConfigError(`${path}.lb_policy`, `${Cluster_LbPolicy[policy] ?? policy} is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV)`);
  }
}

function ringSize(value: bigint | undefined, dflt: number, path: string): number {
  if (value === undefined) return dflt;
  if (value > BigInt(RING_SIZE_LIMIT)) throw new ConfigError(path, `must be <= ${RING_SIZE_LIMIT}, got ${value}`);
  // Envoy accepts 0 and then builds an empty ring that never picks a host; refuse it instead.
  if (value < 1n) throw new ConfigError(path, 'must be >= 1');
  return Number(value);
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
