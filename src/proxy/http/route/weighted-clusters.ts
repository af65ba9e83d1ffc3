import type { WeightedCluster } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileHeaderMutation, type HeaderMutation } from './header-mutation.js';

/** The upstream cluster a forward route picked, with what only that cluster adds. */
export interface ClusterChoice {
  readonly name: string;
  /** Configured weight; 1 for a single `cluster`. */
  readonly weight: number;
  /** `ClusterWeight.host_rewrite_literal`: Envoy sets the Host to it before the route's own rewrites. */
  readonly hostRewriteLiteral?: string;
  readonly requestHeaderMutation?: HeaderMutation;
  readonly responseHeaderMutation?: HeaderMutation;
}

const UINT32_MAX = 4294967295;

/**
 * `RouteAction.weighted_clusters`, as Envoy's `WeightedClusterSpecifierPlugin`: cluster i owns
 * the interval [w0+..+w(i-1), w0+..+wi) of [0, total); a uniform draw picks the interval it
 * lands in, so a cluster of weight 0 is never picked.
 */
export class WeightedClusters {
  readonly clusters: readonly ClusterChoice[];
  readonly totalWeight: number;
  readonly #ends: readonly number[];

  constructor(clusters: readonly ClusterChoice[]) {
    this.clusters = clusters;
    let sum = 0;
    this.#ends = clusters.map((c) => (sum += c.weight));
    this.totalWeight = sum;
  }

  /** The cluster for a uniform `random` in [0, 1). */
  pick(random: number): ClusterChoice {
    const total = this.totalWeight;
    let v = Math.floor(random * total);
    if (!(v >= 0)) v = 0;
    if (v >= total) v = total - 1;
    const ends = this.#ends;
    for (let i = 0; i < ends.length; i++) if (v < ends[i]!) return this.clusters[i]!;
    return this.clusters[this.clusters.length - 1]!;
  }
}

export function compileWeightedClusters(wc: WeightedCluster, path: string): WeightedClusters {
  if (wc.clusters.length === 0) throw new ConfigError(`${path}.clusters`, 'at least one cluster is required');
  let sum = 0;
  const clusters = wc.clusters.map((c, i): ClusterChoice => {
    const p = `${path}.clusters[${i}]`;
    if (c.clusterHeader) {
      throw new ConfigError(`${p}.cluster_header`, c.name ? 'Only one of name or cluster_header can be specified' : 'cluster_header is not supported');
    }
    if (!c.name) throw new ConfigError(`${p}.name`, 'At least one of name or cluster_header need to be specified');
    // Envoy reads the weight with PROTOBUF_GET_WRAPPED_REQUIRED.
    if (c.weight === undefined) throw new ConfigError(`${p}.weight`, 'required');
    sum += c.weight;
    if (sum > UINT32_MAX) throw new ConfigError(`${path}.clusters`, `the sum of weights exceeds ${UINT32_MAX}`);
    const host = c.hostRewriteSpecifier.case === 'hostRewriteLiteral' ? c.hostRewriteSpecifier.value : '';
    return {
      name: c.name,
      weight: c.weight,
      ...(host ? { hostRewriteLiteral: host } : {}),
      requestHeaderMutation: compileHeaderMutation(c.requestHeadersToAdd, c.requestHeadersToRemove, p, 'request'),
      responseHeaderMutation: compileHeaderMutation(c.responseHeadersToAdd, c.responseHeadersToRemove, p, 'response'),
    };
  });
  if (sum === 0) throw new ConfigError(`${path}.clusters`, 'Sum of weights in the weighted_cluster must be greater than 0.');
  // Deprecated; older Envoy rejected a total_weight the weights do not add up to.
  if (wc.totalWeight !== undefined && wc.totalWeight > 0 && wc.totalWeight !== sum) {
    throw new ConfigError(`${path}.total_weight`, `Sum of weights in the weighted_cluster should add up to ${wc.totalWeight}, got ${sum}`);
  }
  return new WeightedClusters(clusters);
}
