import type { JsonObject } from '@bufbuild/protobuf';
import type { LbHost } from './lb/types.js';
import type { ClusterHealth } from './cluster-health.js';
import { H_FLAGS, isHealthy } from './host-state.js';

/**
 * One upstream endpoint of a cluster. Active requests are per worker; health flags, outlier
 * counters and ejection state live in `state`, shared by every thread of the proxy instance.
 */
export class UpstreamHost implements LbHost {
  readonly key: string;
  activeRequests = 0;

  constructor(
    readonly address: string,
    readonly port: number,
    readonly weight: number,
    /** The name it was resolved from (STRICT_DNS / LOGICAL_DNS), for /clusters. */
    readonly hostname: string,
    readonly cluster: ClusterHealth,
    /** The host's shared block (host-state.ts layout) and its times. */
    readonly state: Int32Array,
    readonly times: BigInt64Array,
    /** The endpoint's `envoy.transport_socket_match` metadata (which transport socket it gets). */
    readonly transportMatch?: JsonObject,
  ) {
    this.key = hostKey(address, port);
  }

  /**
   * Whether the load balancer may pick it: healthy by its flags, or any host when the cluster
   * is in panic (read live; the cluster refreshes its panic state before each pick).
   */
  get healthy(): boolean {
    return this.cluster.panic || isHealthy(this.state[H_FLAGS]!, this.cluster.activeHc);
  }

  /** The shared flags word (host-state.ts F_* bits). */
  get flags(): number {
    return Atomics.load(this.state, H_FLAGS);
  }
}

/** `ip:port`, IPv6 as `[ip]:port` (Envoy's Address::asString). */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
