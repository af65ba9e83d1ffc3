/**
 * ROUND_ROBIN as Envoy does it (source/extensions/load_balancing_policies/round_robin): a plain
 * rotation when all weights are equal, otherwise the EDF schedule (edf.ts), which spreads a
 * heavier host's turns evenly instead of sending them in a burst.
 */
import { EdfScheduler } from './edf.js';
import { allWeightsEqual, randomIndex } from './healthy.js';
import type { LbContext, LbHost, LoadBalancer } from './types.js';

export class RoundRobinLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly LbHost[];
  readonly #edf: EdfScheduler | undefined;
  /** Next rotation index; -1 until the first pick chooses a random start. */
  #next = -1;

  constructor(hosts: readonly LbHost[]) {
    this.#hosts = hosts;
    this.#edf = hosts.length > 1 && !allWeightsEqual(hosts) ? new EdfScheduler(hosts) : undefined;
  }

  pick(ctx: LbContext): LbHost | undefined {
    const hosts = this.#hosts;
    const n = hosts.length;
    if (n === 0) return undefined;
    if (this.#next < 0) {
      // Envoy starts every schedule at a random offset (EdfLoadBalancerBase::seed_) so that
      // proxies whose host lists changed together do not all hit the same host first.
      this.#next = randomIndex(ctx.random, n);
      this.#edf?.skip(this.#next);
    }
    if (this.#edf) {
      const i = this.#edf.pick();
      return i < 0 ? undefined : hosts[i];
    }
    // Skipping unhealthy hosts keeps the healthy ones in the same cyclic order.
    for (let k = 0; k < n; k++) {
      const h = hosts[this.#next]!;
      this.#next = this.#next + 1 === n ? 0 : this.#next + 1;
      if (h.healthy) return h;
    }
    return undefined;
  }
}
