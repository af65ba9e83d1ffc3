/**
 * One thread's view of a cluster's instance-wide health: whether the load balancer is in panic
 * (too few healthy hosts, so every host is used), re-evaluated only when some thread changed a
 * host's flags (a generation counter in shared memory), and whether the cluster ever had
 * traffic (active health checks use no_traffic_interval until it has).
 */
import type { Cluster_CommonLbConfig } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import type { Gauge } from '../stats-scope.js';
import type { SharedSlots } from '../shared/slots.js';
import { C_GENERATION, C_TRAFFIC, clusterBlock, F_HC_EXCLUDED, H_FLAGS, isHealthy } from './host-state.js';

/** A host as this module needs it: its shared block. */
interface HostFlags { readonly state: Int32Array }

/**
 * Envoy's LoadBalancerBase::isHostSetInPanic: panic when the healthy share of the hosts is
 * below healthy_panic_threshold (percent). A threshold of 0 never panics. `total` leaves out
 * the excluded hosts (x-envoy-immediate-health-check-fail), as Envoy's does.
 */
export function inPanic(healthy: number, total: number, thresholdPercent: number): boolean {
  const healthyPercent = total === 0 ? 0 : (100 * healthy) / total;
  return healthyPercent < thresholdPercent;
}

/** common_lb_config.healthy_panic_threshold in percent; Envoy's default is 50. */
export function compilePanicThreshold(c: Cluster_CommonLbConfig | undefined, path: string): number {
  const v = c?.healthyPanicThreshold?.value ?? 50;
  if (!(v >= 0 && v <= 100)) throw new ConfigError(`${path}.common_lb_config.healthy_panic_threshold.value`, `must be in [0, 100], got ${v}`);
  return v;
}

export class ClusterHealth {
  /** Read by every host's `healthy` on each pick: true makes every host selectable. */
  panic = false;
  /** Hosts healthy by their flags at the last look. */
  healthyCount = 0;
  readonly #block: Int32Array;
  #seen = -1;

  constructor(
    slots: SharedSlots,
    cluster: string,
    /** The cluster has active health checks: a host needs a passed check to be healthy. */
    readonly activeHc: boolean,
    /** common_lb_config.healthy_panic_threshold, percent. */
    readonly panicThreshold: number,
    /** membership_healthy on the instance-wide scope. */
    readonly membershipHealthy: Gauge,
    /** membership_excluded (hosts excluded via x-envoy-immediate-health-check-fail), when known. */
    readonly membershipExcluded?: Gauge,
  ) {
    this.#block = clusterBlock(slots, cluster);
  }

  /** The cluster's shared block (ejection count, generation). */
  get block(): Int32Array {
    return this.#block;
  }

  /** Call before a pick: cheap unless some host's flags changed since this thread last looked. */
  refresh(hosts: readonly HostFlags[]): void {
    // A plain read is enough: a change is seen at most a few picks late, and it is cheaper.
    const g = this.#block[C_GENERATION]!;
    if (g !== this.#seen) {
      this.#seen = g;
      this.#recount(hosts);
    }
  }

  /** Call after this thread changed a host's flags: every thread re-evaluates at its next pick. */
  changed(hosts: readonly HostFlags[]): void {
    Atomics.add(this.#block, C_GENERATION, 1);
    this.refresh(hosts);
  }

  /** The host list changed in this thread. */
  hostsChanged(hosts: readonly HostFlags[]): void {
    this.#seen = -1;
    this.refresh(hosts);
  }

  /** This thread routed traffic to the cluster (a field, so the per-pick check stays inline). */
  trafficNoted = false;

  noteTraffic(): void {
    this.trafficNoted = true;
    Atomics.store(this.#block, C_TRAFFIC, 1);
  }

  /** Whether any thread ever routed traffic to this cluster. */
  get trafficSeen(): boolean {
    return this.trafficNoted || Atomics.load(this.#block, C_TRAFFIC) === 1;
  }

  #recount(hosts: readonly HostFlags[]): void {
    let healthy = 0;
    let excluded = 0;
    for (const h of hosts) {
      const flags = Atomics.load(h.state, H_FLAGS);
      if (isHealthy(flags, this.activeHc)) healthy++;
      else if (flags & F_HC_EXCLUDED) excluded++;
    }
    this.healthyCount = healthy;
    this.panic = inPanic(healthy, hosts.length - excluded, this.panicThreshold);
    this.membershipHealthy.set(healthy);
    this.membershipExcluded?.set(excluded);
  }
}
