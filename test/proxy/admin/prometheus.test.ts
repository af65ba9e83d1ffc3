import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../../../src/proxy/admin/stats.js';
import { clusterStat, scopeStat, scopesFor } from '../../../src/proxy/admin/scopes.js';
import { formatG32, renderPrometheus } from '../../../src/proxy/admin/render-prometheus.js';

// Golden output: Envoy's /stats/prometheus layout (prometheus_stats.cc) for a small proxy.
const GOLDEN = [
  "# TYPE envoy_cluster_upstream_rq counter",
  "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 2",
  "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 1",
  "",
  "# TYPE envoy_cluster_upstream_rq_total counter",
  "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 3",
  "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"weird\\\"name\\\\with\\nnewline\"} 1",
  "",
  "# TYPE envoy_cluster_upstream_rq_xx counter",
  "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 2",
  "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\",envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 1",
  "",
  "# TYPE envoy_http_downstream_rq_xx counter",
  "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\",envoy_http_conn_manager_prefix=\"inbound_0.0.0.0_8080\"} 4",
  "",
  "# TYPE envoy_listener_downstream_cx_total counter",
  "envoy_listener_downstream_cx_total{envoy_listener_address=\"0.0.0.0_15001\"} 5",
  "",
  "# TYPE envoy_tcp_downstream_cx_total counter",
  "envoy_tcp_downstream_cx_total{envoy_tcp_prefix=\"tcp_in\"} 6",
  "",
  "# TYPE envoy_cluster_upstream_cx_active gauge",
  "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 4",
  "",
  "# TYPE envoy_server_live gauge",
  "envoy_server_live{} 1",
  "",
  "# TYPE envoy_cluster_upstream_rq_time histogram",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"0.5\"} 1",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"1\"} 1",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"5\"} 2",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"10\"} 4",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"25\"} 4",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"50\"} 4",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"100\"} 4",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"250\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"500\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"1000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"2500\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"5000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"10000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"30000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"60000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"300000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"600000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"1800000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"3600000\"} 5",
  "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\",le=\"+Inf\"} 6",
  "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 5000135.3499999996274709701538086",
  "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"outbound|80||svc.ns.svc.cluster.local\"} 6",
  "",
  "",
].join('\n');

function sampleStore(): StatsStore {
  const s = StatsStore.create({ counters: 64, gauges: 16, histograms: 8, nameBytes: 1 << 14 });
  const c = 'outbound|80||svc.ns.svc.cluster.local';
  s.counter(clusterStat(c, 'upstream_rq_total')).inc(3);
  s.counter(clusterStat(c, 'upstream_rq_2xx')).inc(2);
  s.counter(clusterStat(c, 'upstream_rq_5xx')).inc(1);
  s.counter(clusterStat(c, 'upstream_rq_200')).inc(2);
  s.counter(clusterStat(c, 'upstream_rq_503')).inc(1);
  s.counter(clusterStat('weird"name\\with\nnewline', 'upstream_rq_total')).inc(1);
  s.counter(scopeStat('http', 'inbound_0.0.0.0_8080', 'downstream_rq_2xx')).inc(4);
  s.counter(scopeStat('listener', '0.0.0.0_15001', 'downstream_cx_total')).inc(5);
  s.counter(scopeStat('tcp', 'tcp_in', 'downstream_cx_total')).inc(6);
  s.gauge(clusterStat(c, 'upstream_cx_active')).set(4);
  s.gauge('server.live').set(1);
  const h = s.histogram(clusterStat(c, 'upstream_rq_time'));
  for (const v of [0.3, 7, 7, 120, 1.05, 5000000]) h.record(v);
  return s;
}

test('prometheus exposition: golden', () => {
  assert.equal(renderPrometheus(sampleStore()), GOLDEN);
});

test('prometheus: usedonly and filter apply to the full Envoy name', () => {
  const s = sampleStore();
  s.counter(clusterStat('idle', 'upstream_rq_total'));
  assert.ok(renderPrometheus(s).includes('envoy_cluster_name="idle"'));
  assert.ok(!renderPrometheus(s, { usedOnly: true }).includes('envoy_cluster_name="idle"'));
  assert.equal(renderPrometheus(s, { filter: /^tcp\./ }), '# TYPE envoy_tcp_downstream_cx_total counter\nenvoy_tcp_downstream_cx_total{envoy_tcp_prefix="tcp_in"} 6\n\n');
});

test('%.32g as Envoy prints le bounds and sums', () => {
  assert.equal(formatG32(0.5), '0.5');
  assert.equal(formatG32(3600000), '3600000');
  assert.equal(formatG32(0), '0');
  assert.equal(formatG32(1.05), '1.0500000000000000444089209850063');
  assert.equal(formatG32(0.00001), '1.0000000000000000818030539140313e-05');
  assert.equal(formatG32(1e40), '1.0000000000000000303786028427004e+40');
});

test('filter namespaces: local rate limit prefixes and fault downstream cluster become tags as Envoy extracts them', () => {
  const store = StatsStore.create({ counters: 64, gauges: 8, histograms: 4, nameBytes: 1 << 14 });
  const scopes = scopesFor(store);
  scopes.httpLocalRateLimit('edge_rl').counter('enforced').inc(2);
  scopes.networkLocalRateLimit('tcp_rl').counter('rate_limited').inc(3);
  scopes.faultDownstreamCluster('ingress', 'frontend').counter('aborts_injected').inc();
  const text = renderPrometheus(store);
  assert.match(text, /^envoy_http_local_rate_limit_enforced\{envoy_local_http_ratelimit_prefix="edge_rl"\} 2$/m);
  assert.match(text, /^envoy_local_rate_limit_rate_limited\{envoy_local_network_ratelimit_prefix="tcp_rl"\} 3$/m);
  assert.match(text, /^envoy_http_fault_aborts_injected\{envoy_fault_downstream_cluster="frontend",envoy_http_conn_manager_prefix="ingress"\} 1$/m);
  const names = store.snapshot().counters.map((c) => c.info.name);
  assert.deepEqual(names.sort(), ['edge_rl.http_local_rate_limit.enforced', 'http.ingress.fault.frontend.aborts_injected', 'local_rate_limit.tcp_rl.rate_limited']);
});
