/**
 * Outlier detection's event side, in every thread (Envoy's DetectorHostMonitorImpl plus the
 * ejection itself). The router and tcp_proxy report each upstream attempt's result:
 *
 *   cluster.outlier?.onHttpStatus(host, status)      the upstream answered with `status`
 *   cluster.outlier?.onLocalOrigin(host, event)      see LocalOriginEvent (math.ts)
 *
 * Counters live in the host's shared block, so consecutive failures add up across worker
 * threads; the thread whose report reaches a threshold ejects the host at once, within
 * max_ejection_percent checked atomically against the instance-wide ejection count.
 * Returning hosts to service and the success-rate analyses run in the supervisor (sweep.ts).
 */
import type { ClusterHealth } from '../cluster-health.js';
import type { UpstreamHost } from '../host.js';
import {
  C_EJECTIONS_ACTIVE, F_EJECTING, F_OUTLIER_EJECTED, H_BACKOFF, H_CONSECUTIVE_5XX, H_CONSECUTIVE_GATEWAY,
  H_CONSECUTIVE_LOCAL, H_EJECTIONS, H_EXT_SUCCESS, H_EXT_TOTAL, H_FLAGS, H_JITTER_MS, H_LOCAL_SUCCESS, H_LOCAL_TOTAL,
  T_LAST_EJECTION, T_LAST_UNEJECTION,
} from '../host-state.js';
import type { EjectionType, OutlierSpec } from './config.js';
import {
  backoffAfterEjection, ejectionAllowed, ejectionJitterMs, enforced, isGatewayError, isLocalOriginFailure,
  localOriginAsHttpStatus, type LocalOriginEvent,
} from './math.js';
import { detectedStat, enforcedStat, type OutlierStats } from './stats.js';

export type { LocalOriginEvent };

/** The cluster as the detector sees it in this thread. */
export interface OutlierCluster {
  readonly hosts: readonly UpstreamHost[];
  readonly health: ClusterHealth;
}

export class OutlierDetector {
  constructor(
    readonly spec: OutlierSpec,
    readonly stats: OutlierStats,
    readonly cluster: OutlierCluster,
    readonly random: () => number = Math.random,
    readonly now: () => number = Date.now,
  ) {}

  /** The upstream answered `status` (Envoy's putHttpResponseCode). */
  onHttpStatus(host: UpstreamHost, status: number): void {
    const s = host.state;
    Atomics.add(s, H_EXT_TOTAL, 1);
    if (status < 500 || status > 599) {
      Atomics.add(s, H_EXT_SUCCESS, 1);
      Atomics.store(s, H_CONSECUTIVE_5XX, 0);
      Atomics.store(s, H_CONSECUTIVE_GATEWAY, 0);
      return;
    }
    // `===`: exactly one report, in whichever thread, crosses the threshold.
    if (isGatewayError(status)) {
      if (Atomics.add(s, H_CONSECUTIVE_GATEWAY, 1) + 1 === this.spec.consecutiveGatewayFailure) this.#consecutive(host, 'consecutive_gateway_failure');
    } else {
      Atomics.store(s, H_CONSECUTIVE_GATEWAY, 0);
    }
    if (Atomics.add(s, H_CONSECUTIVE_5XX, 1) + 1 === this.spec.consecutive5xx) this.#consecutive(host, 'consecutive_5xx');
  }

  /**
   * A local-origin result. Without split_external_local_origin_errors it counts as the HTTP
   * status the proxy would answer (503, 504); with it, it feeds the local-origin counters only.
   */
  onLocalOrigin(host: UpstreamHost, event: LocalOriginEvent): void {
    if (!this.spec.splitExternalLocalOriginErrors) {
      const status = localOriginAsHttpStatus(event);
      if (status !== undefined) this.onHttpStatus(host, status);
      return;
    }
    const s = host.state;
    Atomics.add(s, H_LOCAL_TOTAL, 1);
    if (!isLocalOriginFailure(event)) {
      Atomics.add(s, H_LOCAL_SUCCESS, 1);
      Atomics.store(s, H_CONSECUTIVE_LOCAL, 0);
      return;
    }
    if (Atomics.add(s, H_CONSECUTIVE_LOCAL, 1) + 1 === this.spec.consecutiveLocalOriginFailure) this.#consecutive(host, 'consecutive_local_origin_failure');
  }

  /** A consecutive-failure detection (Envoy's onConsecutiveErrorWorker). */
  #consecutive(host: UpstreamHost, type: EjectionType): void {
    if (host.flags & F_OUTLIER_EJECTED) return;
    this.stats[detectedStat(type)].inc();
    this.eject(host, type);
    // Reset even when not ejected, so that the next run of failures is detected again.
    if (type === 'consecutive_5xx') {
      this.stats.ejections_consecutive_5xx.inc();
      Atomics.store(host.state, H_CONSECUTIVE_5XX, 0);
    } else if (type === 'consecutive_gateway_failure') {
      Atomics.store(host.state, H_CONSECUTIVE_GATEWAY, 0);
    } else if (type === 'consecutive_local_origin_failure') {
      Atomics.store(host.state, H_CONSECUTIVE_LOCAL, 0);
    }
  }

  /**
   * Envoy's ejectHost: within max_ejection_percent (else ejections_overflow), and if the
   * enforcing_* roll says so, marks the host failed_outlier_check for base_ejection_time x its
   * multiplier. Returns whether it ejected.
   */
  eject(host: UpstreamHost, type: EjectionType): boolean {
    const { spec, stats, cluster } = this;
    const block = cluster.health.block;
    const hostCount = cluster.hosts.length;
    const enforce = enforced(spec.enforcing[type], this.random);
    const s = host.state;
    if (enforce) {
      // Claim the host first, so two threads cannot both eject it.
      if (Atomics.or(s, H_FLAGS, F_EJECTING) & (F_EJECTING | F_OUTLIER_EJECTED)) return false;
    }
    for (;;) {
      const active = Atomics.load(block, C_EJECTIONS_ACTIVE);
      if (!ejectionAllowed(active, hostCount, spec.maxEjectionPercent, spec.alwaysEjectOneHost)) {
        if (enforce) Atomics.and(s, H_FLAGS, ~F_EJECTING);
        stats.ejections_overflow.inc();
        return false;
      }
      if (!enforce || Atomics.compareExchange(block, C_EJECTIONS_ACTIVE, active, active + 1) === active) break;
    }
    if (type === 'consecutive_5xx' || type === 'success_rate') stats.ejections_total.inc();
    if (!enforce) return false;
    stats.ejections_enforced_total.inc();
    stats[enforcedStat(type)].inc();
    Atomics.add(s, H_EJECTIONS, 1);
    Atomics.store(s, H_JITTER_MS, ejectionJitterMs(spec.maxEjectionTimeJitterMs, this.random));
    Atomics.store(s, H_BACKOFF, backoffAfterEjection(Atomics.load(s, H_BACKOFF), spec.baseEjectionTimeMs, spec.maxEjectionTimeMs));
    Atomics.store(host.times, T_LAST_EJECTION, BigInt(this.now()));
    // The times are written before the flag, so the sweep never sees an ejection without them.
    Atomics.or(s, H_FLAGS, F_OUTLIER_EJECTED);
    Atomics.and(s, H_FLAGS, ~F_EJECTING);
    stats.ejections_active.set(Atomics.load(block, C_EJECTIONS_ACTIVE));
    cluster.health.changed(cluster.hosts);
    return true;
  }

  /**
   * Returns an ejected host to service (Envoy's unejectHost): clears the flag and the
   * consecutive counters, so that a few new errors do not eject it again at once.
   */
  uneject(host: UpstreamHost): void {
    const s = host.state;
    if ((Atomics.and(s, H_FLAGS, ~F_OUTLIER_EJECTED) & F_OUTLIER_EJECTED) === 0) return;
    const block = this.cluster.health.block;
    Atomics.sub(block, C_EJECTIONS_ACTIVE, 1);
    Atomics.store(s, H_CONSECUTIVE_5XX, 0);
    Atomics.store(s, H_CONSECUTIVE_GATEWAY, 0);
    Atomics.store(s, H_CONSECUTIVE_LOCAL, 0);
    Atomics.store(host.times, T_LAST_UNEJECTION, BigInt(this.now()));
    this.stats.ejections_active.set(Atomics.load(block, C_EJECTIONS_ACTIVE));
    this.cluster.health.changed(this.cluster.hosts);
  }
}
