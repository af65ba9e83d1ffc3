import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBootstrap } from '../../../src/envoy/bootstrap.js';
import { compileBootstrap } from '../../../src/proxy/config.js';

// What a bootstrap may say about upstream health, and what is refused with its field path.
const withCluster = (extra: string): string => `
static_resources:
  clusters:
  - name: app
    type: STATIC
${extra.split('\n').filter((l) => l.trim()).map((l) => `    ${l}`).join('\n')}
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 80 } } } } ] } ] }
`;
const compile = async (extra: string) => { const l = await parseBootstrap(withCluster(extra)); return compileBootstrap(l.bootstrap, l.registry); };
const hc = (body: string) => `health_checks: [ { timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, ${body} } ]`;

describe('upstream health config in a bootstrap', () => {
  it('accepts everything it implements', async () => {
    const spec = await compile(`
${hc('http_health_check: { path: /hz, host: h, expected_statuses: [ { start: 200, end: 300 } ], request_headers_to_add: [ { header: { key: a, value: b } } ] }, reuse_connection: false, interval_jitter: 0.1s, interval_jitter_percent: 5, initial_jitter: 0.1s, alt_port: 81, no_traffic_interval: 5s, unhealthy_interval: 2s, unhealthy_edge_interval: 1s, healthy_edge_interval: 1s')}
outlier_detection: { consecutive_5xx: 3, interval: 1s, base_ejection_time: 1s, max_ejection_time: 10s, max_ejection_time_jitter: 1s, split_external_local_origin_errors: true, always_eject_one_host: true, successful_active_health_check_uneject_host: false }
common_lb_config: { healthy_panic_threshold: { value: 25 } }`);
    const c = spec.clusters[0]!;
    assert.equal(c.healthCheck?.altPort, 81);
    assert.equal(c.outlier?.consecutive5xx, 3);
    assert.equal(c.panicThreshold, 25);
  });

  it('panic threshold defaults to 50%', async () => assert.equal((await compile('')).clusters[0]!.panicThreshold, 50));

  const refused: [string, string, RegExp][] = [
    ['outlier extension monitors', 'outlier_detection: { monitors: [ { name: x, typed_config: { "@type": type.googleapis.com/google.protobuf.Empty } } ] }', /clusters\[0\]\.outlier_detection\.monitors: field is not supported/],
    ['a custom health checker', 'health_checks: [ { timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, custom_health_check: { name: x } } ]', /clusters\[0\]\.health_checks\[0\]\.custom_health_check: field is not supported/],
    ['health-check TLS options', hc('tcp_health_check: {}, tls_options: { alpn_protocols: [h2] }'), /health_checks\[0\]\.tls_options: field is not supported/],
    ['a health-check event log', hc('tcp_health_check: {}, event_log_path: /tmp/x'), /health_checks\[0\]\.event_log_path: field is not supported/],
    ['service_name_matcher', hc('http_health_check: { path: /, service_name_matcher: { exact: x } }'), /http_health_check\.service_name_matcher: field is not supported/],
    ['zone-aware load balancing', 'common_lb_config: { zone_aware_lb_config: {} }', /common_lb_config\.zone_aware_lb_config: field is not supported/],
    ['ignore_new_hosts_until_first_hc', 'common_lb_config: { ignore_new_hosts_until_first_hc: true }', /common_lb_config\.ignore_new_hosts_until_first_hc: field is not supported/],
    ['two health checks', `health_checks: [ { timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }, { timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} } ]`, /clusters\[0\]\.health_checks: only one health check per cluster is supported, got 2/],
    ['a health check without timeout', 'health_checks: [ { interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} } ]', /clusters\[0\]\.health_checks\[0\]\.timeout: required/],
    ['a panic threshold over 100', 'common_lb_config: { healthy_panic_threshold: { value: 150 } }', /common_lb_config\.healthy_panic_threshold\.value: must be in \[0, 100\]/],
    ['max_ejection_time below base', 'outlier_detection: { base_ejection_time: 10s, max_ejection_time: 1s }', /clusters\[0\]\.outlier_detection\.max_ejection_time/],
  ];
  for (const [name, extra, want] of refused) it(`refuses ${name}`, () => assert.rejects(compile(extra), want));
});
