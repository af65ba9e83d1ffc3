/**
 * LEAST_REQUEST as Envoy does it (source/extensions/load_balancing_policies/least_request):
 * with equal weights, power of `choice_count` choices (sample that many healthy hosts uniformly,
 * with replacement, keep the one with fewest active requests, the first on ties); with unequal
 * weights, the EDF schedule with dynamic weight `weight / (active_requests + 1) ^ bias`,
 * recomputed for a host each time it is picked.
 */
import { EdfScheduler } from './edf.js';
import { allWeightsEqual, randomIndex, uniformHealthy } from './healthy.js';
import type { LbContext, LbHost, LoadBalancer } from './types.js';

export interface LeastRequestOptions {
  /** least_request_lb_config.choice_count, default 2, >= 2. */
  readonly choiceCount: number;
  /** least_request_lb_config.active_request_bias, default 1.0, >= 0. */
  readonly activeRequestBias: number;
}

export class LeastRequestLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly LbHost[];
  readonly #choiceCount: number;
  readonly #edf: EdfScheduler | undefined;
  #seeded = false;

  constructor(hosts: readonly LbHost[], opts: LeastRequestOptions) {
    this.#hosts = hosts;
    this.#choiceCount = opts.choiceCount;
    this.#edf = hosts.length > 1 && !allWeightsEqual(hosts) ? new EdfScheduler(hosts, opts.activeRequestBias) : undefined;
  }

  pick(ctx: LbContext): LbHost | undefined {
    const hosts = this.#hosts;
    if (hosts.length === 0) return undefined;
    if (this.#edf) {
      if (!this.#seeded) {
        this.#seeded = true;
        this.#edf.skip(randomIndex(ctx.random, hosts.length));
      }
      const i = this.#edf.pick();
      return i < 0 ? undefined : hosts[i];
    }
    let candidate: LbHost | undefined;
    for (let c = 0; c < this.#choiceCount; c++) {
      const sampled = uniformHealthy(hosts, ctx.random);
      if (!sampled) return undefined;
      if (!candidate || sampled.activeRequests < candidate.activeRequests) candidate = sampled;
    }
    return candidate;
  }
}

