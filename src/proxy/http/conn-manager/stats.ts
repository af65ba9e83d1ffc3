import type { Counter, Gauge, Histogram, StatScope } from '../../stats-scope.js';

/** Envoy's HTTP connection manager stats (`http.<stat_prefix>.*`). */
export class HcmStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_http1_total: Counter;
  readonly downstream_cx_http2_total: Counter;
  readonly downstream_cx_protocol_error: Counter;
  readonly downstream_cx_idle_timeout: Counter;
  readonly downstream_cx_upgrades_total: Counter;
  readonly downstream_cx_rx_bytes_total: Counter;
  readonly downstream_cx_tx_bytes_total: Counter;
  readonly downstream_rq_total: Counter;
  readonly downstream_rq_http1_total: Counter;
  readonly downstream_rq_http2_total: Counter;
  readonly downstream_rq_active: Gauge;
  readonly downstream_rq_1xx: Counter;
  readonly downstream_rq_2xx: Counter;
  readonly downstream_rq_3xx: Counter;
  readonly downstream_rq_4xx: Counter;
  readonly downstream_rq_5xx: Counter;
  readonly downstream_rq_completed: Counter;
  readonly downstream_rq_rx_reset: Counter;
  readonly downstream_rq_tx_reset: Counter;
  readonly downstream_rq_header_timeout: Counter;
  readonly downstream_rq_timeout: Counter;
  readonly downstream_rq_idle_timeout: Counter;
  readonly downstream_rq_time: Histogram;
  readonly rq_direct_response: Counter;
  readonly rq_redirect: Counter;
  readonly no_route: Counter;
  readonly no_cluster: Counter;

  constructor(s: StatScope) {
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_active = s.gauge('downstream_cx_active');
    this.downstream_cx_http1_total = s.counter('downstream_cx_http1_total');
    this.downstream_cx_http2_total = s.counter('downstream_cx_http2_total');
    this.downstream_cx_protocol_error = s.counter('downstream_cx_protocol_error');
    this.downstream_cx_idle_timeout = s.counter('downstream_cx_idle_timeout');
    this.downstream_cx_upgrades_total = s.counter('downstream_cx_upgrades_total');
    this.downstream_cx_rx_bytes_total = s.counter('downstream_cx_rx_bytes_total');
    this.downstream_cx_tx_bytes_total = s.counter('downstream_cx_tx_bytes_total');
    this.downstream_rq_total = s.counter('downstream_rq_total');
    this.downstream_rq_http1_total = s.counter('downstream_rq_http1_total');
    this.downstream_rq_http2_total = s.counter('downstream_rq_http2_total');
    this.downstream_rq_active = s.gauge('downstream_rq_active');
    this.downstream_rq_1xx = s.counter('downstream_rq_1xx');
    this.downstream_rq_2xx = s.counter('downstream_rq_2xx');
    this.downstream_rq_3xx = s.counter('downstream_rq_3xx');
    this.downstream_rq_4xx = s.counter('downstream_rq_4xx');
    this.downstream_rq_5xx = s.counter('downstream_rq_5xx');
    this.downstream_rq_completed = s.counter('downstream_rq_completed');
    this.downstream_rq_rx_reset = s.counter('downstream_rq_rx_reset');
    this.downstream_rq_tx_reset = s.counter('downstream_rq_tx_reset');
    this.downstream_rq_header_timeout = s.counter('downstream_rq_header_timeout');
    this.downstream_rq_timeout = s.counter('downstream_rq_timeout');
    this.downstream_rq_idle_timeout = s.counter('downstream_rq_idle_timeout');
    this.downstream_rq_time = s.histogram('downstream_rq_time');
    this.rq_direct_response = s.counter('rq_direct_response');
    this.rq_redirect = s.counter('rq_redirect');
    this.no_route = s.counter('no_route');
    this.no_cluster = s.counter('no_cluster');
  }

  recordResponse(status: number): void {
    const cls = (status / 100) | 0;
    if (cls === 2) this.downstream_rq_2xx.inc();
    else if (cls === 5) this.downstream_rq_5xx.inc();
    else if (cls === 4) this.downstream_rq_4xx.inc();
    else if (cls === 3) this.downstream_rq_3xx.inc();
    else this.downstream_rq_1xx.inc();
  }
}
