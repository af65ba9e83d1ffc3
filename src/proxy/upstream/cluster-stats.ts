import { statSet, type Counter, type StatScope, type StatSet } from '../stats-scope.js';

const COUNTERS = [
  'upstream_cx_total',
  'upstream_cx_connect_fail',
  'upstream_cx_connect_timeout',
  'upstream_cx_idle_timeout',
  'upstream_cx_overflow',
  'upstream_cx_protocol_error',
  'upstream_cx_destroy_remote_with_active_rq',
  'upstream_cx_rx_bytes_total',
  'upstream_cx_tx_bytes_total',
  'upstream_rq_total',
  'upstream_rq_pending_total',
  'upstream_rq_pending_overflow',
  'upstream_cx_pool_overflow',
  'upstream_rq_retry',
  'upstream_rq_retry_success',
  'upstream_rq_retry_overflow',
  'upstream_rq_retry_limit_exceeded',
  'upstream_rq_retry_backoff_exponential',
  'upstream_rq_per_try_timeout',
  'upstream_rq_max_duration_reached',
  'retry_or_shadow_abandoned',
  'upstream_rq_timeout',
  'upstream_rq_rx_reset',
  'upstream_rq_tx_reset',
  'upstream_rq_1xx',
  'upstream_rq_2xx',
  'upstream_rq_3xx',
  'upstream_rq_4xx',
  'upstream_rq_5xx',
  'upstream_rq_completed',
  'update_success',
  'update_failure',
  'lb_healthy_panic',
] as const;
const GAUGES = [
  'upstream_cx_active',
  'upstream_rq_active',
  'upstream_rq_pending_active',
  'membership_total',
] as const;
const HISTOGRAMS = [
  'upstream_rq_time',
] as const;

type Handles = StatSet<(typeof COUNTERS)[number], (typeof GAUGES)[number], (typeof HISTOGRAMS)[number]>;
// The handles become fields of the class (declaration merging), set once in the constructor.
export interface ClusterStats extends Handles {}

/** Envoy's cluster stats (https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats). */
export class ClusterStats {
  readonly #scope: StatScope;
  readonly #byCode = new Map<number, Counter>();

  constructor(scope: StatScope) {
    this.#scope = scope;
    Object.assign(this, statSet(scope, COUNTERS, GAUGES, HISTOGRAMS));
  }

  /** Counts a response by class and exact code, as Envoy does. */
  recordResponse(status: number, ms: number): void {
    const cls = (status / 100) | 0;
    if (cls === 2) this.upstream_rq_2xx.inc();
    else if (cls === 5) this.upstream_rq_5xx.inc();
    else if (cls === 4) this.upstream_rq_4xx.inc();
    else if (cls === 3) this.upstream_rq_3xx.inc();
    else this.upstream_rq_1xx.inc();
    let c = this.#byCode.get(status);
    if (!c) this.#byCode.set(status, (c = this.#scope.counter(`upstream_rq_${status}`)));
    c.inc();
    this.upstream_rq_completed.inc();
    this.upstream_rq_time.record(ms);
  }
}
