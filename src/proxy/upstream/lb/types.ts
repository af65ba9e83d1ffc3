/**
 * The load-balancer contract. Everything under lb/ is pure: no I/O, no clock, no global
 * randomness (the caller injects `random`), so tests replay exact sequences.
 */

/** What a load balancer needs to know about one upstream endpoint. */
export interface LbHost {
  /** `ip:port`, IPv6 as `[ip]:port`: Envoy's `Address::asString()`, the key ring hash and Maglev hash. */
  readonly key: string;
  /** `load_balancing_weight`, an integer >= 1 (Envoy's default is 1). */
  readonly weight: number;
  /** Requests in flight to this host; read by LEAST_REQUEST at pick time. */
  activeRequests: number;
  /**
   * Read at pick time: whether the balancer may pick this host (it is healthy, or its cluster is
   * in panic and every host may be picked). An unhealthy host is skipped.
   */
  healthy: boolean;
}

/** Per-pick input. */
export interface LbContext {
  /** Request hash from the route's hash_policy (RING_HASH, MAGLEV); absent means "pick at random". */
  hash?: bigint;
  /** Uniform in [0, 1). Injected so that tests are deterministic. */
  random: () => number;
  /** ORIGINAL_DST clusters: the downstream connection's original destination, when it had one. */
  originalDst?: { readonly address: string; readonly port: number } | undefined;
  /** ORIGINAL_DST clusters with use_http_header: the request's headers. */
  headers?: { get(name: string): string | undefined } | undefined;
}

/**
 * One balancer per (cluster config, host list): the host list is fixed for its lifetime (a
 * membership change builds a new one), health and active-request counts are read live.
 */
export interface LoadBalancer {
  /**
   * Chooses a healthy host, or undefined when there is none. O(1) or O(log n) and allocation-free
   * while hosts are healthy; degrades to a bounded scan only while hosts are unhealthy.
   */
  pick(ctx: LbContext): LbHost | undefined;
}
