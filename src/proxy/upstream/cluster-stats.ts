import type { Counter, Gauge, Histogram, StatScope } from '../stats-scope.js';

/** Envoy's cluster stats (https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats). */
export class ClusterStats {
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_idle_timeout: Counter;
  readonly upstream_cx_overflow: Counter;
  readonly upstream_cx_protocol_error: Counter;
  readonly upstream_cx_destroy_remote_with_active_rq: Counter;
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly upstream_rq_total: Counter;
  readonly upstream_rq_active: Gauge;
  readonly upstream_rq_pending_total: Counter;
  readonly upstream_rq_pending_active: Gauge;
  readonly upstream_rq_pending_overflow: Counter;
  readonly upstream_rq_timeout: Counter;
  readonly upstream_rq_rx_reset: Counter;
  readonly upstream_rq_tx_reset: Counter;
  readonly upstream_rq_1xx: Counter;
  readonly upstream_rq_2xx: Counter;
  readonly upstream_rq_3xx: Counter;
  readonly upstream_rq_4xx: Counter;
  readonly upstream_rq_5xx: Counter;
  readonly upstream_rq_completed: Counter;
  readonly upstream_rq_time: Histogram;
  readonly membership_total: Gauge;
  readonly membership_healthy: Gauge;
  readonly update_success: Counter;
  readonly update_failure: Counter;
  readonly #scope: StatScope;
  readonly #byCode = new Map<number, Counter>();

  constructor(scope: StatScope) {
    this.#scope = scope;
    this.upstream_cx_total = scope.counter('upstream_cx_total');
    this.upstream_cx_active = scope.gauge('upstream_cx_active');
    this.upstream_cx_connect_fail = scope.counter('upstream_cx_connect_fail');
    this.upstream_cx_connect_timeout = scope.counter('upstream_cx_connect_timeout');
    this.upstream_cx_idle_timeout = scope.counter('upstream_cx_idle_timeout');
    this.upstream_cx_overflow = scope.counter('upstream_cx_overflow');
    this.upstream_cx_protocol_error = scope.counter('upstream_cx_protocol_error');
    this.upstream_cx_destroy_remote_with_active_rq = scope.counter('upstream_cx_destroy_remote_with_active_rq');
    this.upstream_cx_rx_bytes_total = scope.counter('upstream_cx_rx_bytes_total');
    this.upstream_cx_tx_bytes_total = scope.counter('upstream_cx_tx_bytes_total');
    this.upstream_rq_total = scope.counter('upstream_rq_total');
    this.upstream_rq_active = scope.gauge('upstream_rq_active');
    this.upstream_rq_pending_total = scope.counter('upstream_rq_pending_total');
    this.upstream_rq_pending_active = scope.gauge('upstream_rq_pending_active');
    this.upstream_rq_pending_overflow = scope.counter('upstream_rq_pending_overflow');
    this.upstream_rq_timeout = scope.counter('upstream_rq_timeout');
    this.upstream_rq_rx_reset = scope.counter('upstream_rq_rx_reset');
    this.upstream_rq_tx_reset = scope.counter('upstream_rq_tx_reset');
    this.upstream_rq_1xx = scope.counter('upstream_rq_1xx');
    this.upstream_rq_2xx = scope.counter('upstream_rq_2xx');
    this.upstream_rq_3xx = scope.counter('upstream_rq_3xx');
    this.upstream_rq_4xx = scope.counter('upstream_rq_4xx');
    this.upstream_rq_5xx = scope.counter('upstream_rq_5xx');
    this.upstream_rq_completed = scope.counter('upstream_rq_completed');
    this.upstream_rq_time = scope.histogram('upstream_rq_time');
    this.membership_total = scope.gauge('membership_total');
    this.membership_healthy = scope.gauge('membership_healthy');
    this.update_success = scope.counter('update_success');
    this.update_failure = scope.counter('update_failure');
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
