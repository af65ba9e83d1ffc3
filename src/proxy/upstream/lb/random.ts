/**
 * RANDOM: a healthy host drawn at random. Weighted by load_balancing_weight (with equal weights
 * this is Envoy's uniform choice; note Envoy's RandomLoadBalancer itself ignores host weights).
 */
import { allWeightsEqual, uniformHealthy, weightedHealthy } from './healthy.js';
import type { LbContext, LbHost, LoadBalancer } from './types.js';

export class RandomLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly LbHost[];
  /** Prefix sums of weights, for an O(log n) weighted draw; undefined when weights are equal. */
  readonly #cumulative: Float64Array | undefined;

  constructor(hosts: readonly LbHost[]) {
    this.#hosts = hosts;
    if (!allWeightsEqual(hosts)) {
      const cum = new Float64Array(hosts.length);
      let sum = 0;
      hosts.forEach((h, i) => { sum += h.weight; cum[i] = sum; });
      this.#cumulative = cum;
    }
  }

  pick(ctx: LbContext): LbHost | undefined {
    return this.#cumulative ? weightedHealthy(this.#hosts, this.#cumulative, ctx.random) : uniformHealthy(this.#hosts, ctx.random);
  }
}
