import { statSet, type StatScope, type StatSet } from '../../stats-scope.js';

const COUNTERS = [
  'downstream_cx_total',
  'downstream_cx_http1_total',
  'downstream_cx_http2_total',
  'downstream_cx_protocol_error',
  'downstream_cx_idle_timeout',
  'downstream_cx_upgrades_total',
  'downstream_cx_rx_bytes_total',
  'downstream_cx_tx_bytes_total',
  'downstream_rq_total',
  'downstream_rq_http1_total',
  'downstream_rq_http2_total',
  'downstream_rq_1xx',
  'downstream_rq_2xx',
  'downstream_rq_3xx',
  'downstream_rq_4xx',
  'downstream_rq_5xx',
  'downstream_rq_completed',
  'downstream_rq_rx_reset',
  'downstream_rq_tx_reset',
  'downstream_rq_header_timeout',
  'downstream_rq_timeout',
  'downstream_rq_idle_timeout',
  'rq_direct_response',
  'rq_redirect',
  'no_route',
  'no_cluster',
  'rq_total',
  'rq_reset_after_downstream_response_started',
  'downstream_rq_max_duration_reached',
] as const;
const GAUGES = [
  'downstream_cx_active',
  'downstream_rq_active',
] as const;
const HISTOGRAMS = [
  'downstream_rq_time',
] as const;

type Handles = StatSet<(typeof COUNTERS)[number], (typeof GAUGES)[number], (typeof HISTOGRAMS)[number]>;
// The handles become fields of the class (declaration merging), set once in the constructor.
export interface HcmStats extends Handles {}

/** Envoy's HTTP connection manager stats (`http.<stat_prefix>.*`). */
export class HcmStats {
  constructor(s: StatScope) {
    Object.assign(this, statSet(s, COUNTERS, GAUGES, HISTOGRAMS));
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
